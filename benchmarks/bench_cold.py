"""What one tool step's decisions cost when they run the way they run in an agent: after idle.

In an agent a decision runs right after the model answered (20 ms to seconds of waiting) or in a worker
thread the framework just started, with the framework's own work in between, so the CPU caches hold
none of our code or data. Warm loops (``bench_core.py``) measure a decision repeated back to back, which
no agent does. This bench times the same tool step (the call's decision, then its result's, on a run
that has read untrusted content) in three ways, in one process:

* ``warm``: back to back, the usual micro-benchmark;
* ``after_idle``: each step after ``--idle-ms`` (20) of sleep, as after a model call;
* ``after_idle_thread``: the same, with the result decided in a fresh thread (what ``ToolNode`` does).

    .venv/bin/python benchmarks/bench_cold.py [--json] [--steps 200] [--idle-ms 20]

It prints the median cost per step (call + result) and the ratio of each to ``warm``; the absolute
numbers depend on the machine, the ratio says how far warm numbers understate what an agent pays.
``bench_langchain.py`` measures the same decisions inside a real agent.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from typing import Any

from airs_plugins import Shield
from airs_plugins._decision import RunContext

QUESTION = "Summarise the handbook on ten topics and email the summary to dana@corp.example."
RESULT = ("The handbook section on {topic} says to file form HR-{n:04d} within five working days; questions go "
          "to people-ops@corp.example or +1 415 555 01{n:02d}.")


def _step(shield: Shield, ctx: RunContext, i: int, *, threaded: bool = False) -> float:
    """One tool step: the call decided, then its result (in a fresh thread when ``threaded``). Only the two
    decisions are timed, not the thread's start; every step starts from the same context, so the run's
    context does not grow over the bench."""
    t0 = time.perf_counter()
    call = shield.check_tool_call("lookup", {"topic": f"topic {i}"}, context=ctx, tool_call_id=f"call_{i}")
    spent = [time.perf_counter() - t0]

    def result() -> None:
        t1 = time.perf_counter()
        shield.check_tool_result("lookup", RESULT.format(topic=f"topic {i}", n=i % 100), context=call.context,
                                 tool_call_id=f"call_{i}")
        spent.append(time.perf_counter() - t1)

    if threaded:
        worker = threading.Thread(target=result)
        worker.start()
        worker.join()
    else:
        result()
    return sum(spent)


def measure(steps: int = 200, idle_ms: float = 20.0) -> dict[str, Any]:
    shield = Shield.default()
    ctx = shield.check_input(QUESTION, run_id="bench-cold").context
    # a run that has read untrusted content: every call's taint rules have observations to look at
    ctx = shield.check_tool_result("lookup", RESULT.format(topic="intro", n=0), context=ctx,
                                   tool_call_id="call_0").context
    for i in range(50):
        _step(shield, ctx, i)
    idle = idle_ms / 1000
    out: dict[str, list[float]] = {"warm": [], "after_idle": [], "after_idle_thread": []}

    def warm(first: int) -> None:  # back to back: half before the idle rounds, half after (machine drift)
        out["warm"].extend(_step(shield, ctx, first + i) for i in range(steps // 2))

    warm(1000)
    for i in range(steps):
        time.sleep(idle)
        out["after_idle"].append(_step(shield, ctx, 2000 + i))
        time.sleep(idle)
        out["after_idle_thread"].append(_step(shield, ctx, 3000 + i, threaded=True))
    warm(4000)
    med = {k: statistics.median(v) * 1000 for k, v in out.items()}
    return {"ms_per_step": {k: round(v, 3) for k, v in med.items()},
            "ratio_to_warm": {k: round(v / med["warm"], 2) for k, v in med.items()},
            "steps": steps, "idle_ms": idle_ms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--idle-ms", type=float, default=20.0)
    args = parser.parse_args(argv)
    res = measure(args.steps, args.idle_ms)
    if args.json:
        print(json.dumps(res))
        return 0
    print(f"one tool step (call + result decisions), median of {res['steps']}, idle {res['idle_ms']:.0f} ms")
    for name, ms in res["ms_per_step"].items():
        print(f"  {name:<18} {ms:7.3f} ms   {res['ratio_to_warm'][name]:5.2f}x warm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
