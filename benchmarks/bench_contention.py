"""Decision latency next to busy Python threads, against the same decisions alone, in one process.

A guarded agent rarely has the process to itself: a web server runs other requests, LangGraph runs tools and
writes checkpoints in threads. Python lets one thread run at a time (the GIL), and a thread that lets go of
it waits to get it back: google-re2 lets go on every match. This bench times the decisions of one tool step
(the call's, then its result's, on the default shield) in rounds: alone, then with ``--threads`` (1)
threads spinning in pure Python, and reports p50/p95 of each and their ratio.

    .venv/bin/python benchmarks/bench_contention.py [--json] [--rounds 9] [--steps 40] [--threads 1]

``--json`` prints one object: ``alone_ms`` and ``busy_ms`` (p50/p95 per decision), ``ratio_p50`` and
``ratio_p95`` (busy over alone), ``re2_matches_per_decision`` (each one a GIL hand-over when contended).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from typing import Any

import re2

from airs_plugins import Shield

QUESTION = "Summarise the handbook on ten topics."


def _steps(n: int) -> list[tuple[dict[str, Any], str]]:
    return [({"topic": f"topic {i}"}, f"The handbook section on topic {i} says to file the form within five "
             "working days.") for i in range(n)]


def _decisions(shield: Shield, steps: list[tuple[dict[str, Any], str]], out: list[float]) -> None:
    ctx = shield.check_input(QUESTION, run_id="contention").context
    for i, (args, result) in enumerate(steps):
        t0 = time.perf_counter()
        ctx = shield.check_tool_call("lookup", args, context=ctx, tool_call_id=f"c{i}").context
        t1 = time.perf_counter()
        ctx = shield.check_tool_result("lookup", result, context=ctx, tool_call_id=f"c{i}").context
        t2 = time.perf_counter()
        out += [(t1 - t0) * 1000, (t2 - t1) * 1000]


class _Busy:
    """Threads that hold the CPU in pure Python until stopped (a server's other work)."""

    def __init__(self, n: int) -> None:
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._spin, daemon=True) for _ in range(n)]

    def _spin(self) -> None:
        x = 0
        while not self._stop.is_set():
            for _ in range(1000):
                x += 1

    def __enter__(self) -> _Busy:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


def _matches_per_decision(shield: Shield, steps: list[tuple[dict[str, Any], str]]) -> float:
    count = [0]
    originals = [(re2.Set, "Match", re2.Set.Match), (re2._Regexp, "_match", re2._Regexp._match)]

    def counting(original: Any) -> Any:
        def counted(*a: Any, **k: Any) -> Any:
            count[0] += 1
            return original(*a, **k)
        return counted

    for owner, name, original in originals:
        setattr(owner, name, counting(original))
    try:
        _decisions(shield, steps, [])
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    return round(count[0] / (2 * len(steps) + 1), 2)


def _p(values: list[float], q: float) -> float:
    return round(sorted(values)[min(len(values) - 1, int(len(values) * q))], 3)


def measure(rounds: int = 9, steps: int = 40, threads: int = 1) -> dict[str, Any]:
    shield = Shield.default()
    plan = _steps(steps)
    for _ in range(3):
        _decisions(shield, plan, [])
    alone: list[float] = []
    busy: list[float] = []
    for _ in range(rounds):
        _decisions(shield, plan, alone)
        with _Busy(threads):
            _decisions(shield, plan, busy)
    a50, b50 = statistics.median(alone), statistics.median(busy)
    return {"alone_ms": {"p50": round(a50, 3), "p95": _p(alone, 0.95)},
            "busy_ms": {"p50": round(b50, 3), "p95": _p(busy, 0.95)},
            "ratio_p50": round(b50 / a50, 2), "ratio_p95": round(_p(busy, 0.95) / _p(alone, 0.95), 2),
            "threads": threads, "decisions": len(alone),
            "re2_matches_per_decision": _matches_per_decision(shield, plan),
            "switch_interval_ms": sys.getswitchinterval() * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    r = measure(args.rounds, args.steps, args.threads)
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"tool-step decisions (call, then result), {r['decisions']} per side, default shield")
    print(f"  alone                      p50 {r['alone_ms']['p50']:7.3f} ms   p95 {r['alone_ms']['p95']:7.3f} ms")
    print(f"  next to {r['threads']} busy thread(s)     p50 {r['busy_ms']['p50']:7.3f} ms   "
          f"p95 {r['busy_ms']['p95']:7.3f} ms")
    print(f"  busy ÷ alone: {r['ratio_p50']:.2f}x at p50, {r['ratio_p95']:.2f}x at p95; "
          f"{r['re2_matches_per_decision']} RE2 matches per decision (each lets go of the GIL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
