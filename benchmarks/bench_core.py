"""Core benchmarks: Shield.check_input by size, the router, audit appends, import time.

Run: .venv/bin/python benchmarks/bench_core.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json

from airs_plugins._bench import run_core


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = run_core(quick=args.quick)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print("Shield.check_input, default policy (µs)")
    for name, r in res["check_input"].items():
        print(f"  {name:<12} p50 {r['p50_us']:>9.1f}  p99 {r['p99_us']:>9.1f}")
    rt = res["router"]
    base = rt["bare_call_baseline"]["p50_us"]
    print("Router (µs)")
    for name in ("route", "decide_no_checks", "bare_call_baseline"):
        r = rt[name]
        print(f"  {name:<20} p50 {r['p50_us']:>7.2f}  p99 {r['p99_us']:>7.2f}  ({r['p50_us'] / base:.0f}x bare call)")
    a = res["audit"]
    print(f"Audit appends/s: sqlite chain {a['sqlite_chain_per_s']}, raw sqlite insert {a['raw_sqlite_insert_per_s']} "
          f"(chain costs {a['chain_cost_ratio']}x raw), memory chain {a['memory_chain_per_s']}")
    for k, v in res["import_ms"].items():
        print(f"Import: {k}: {v} ms")


if __name__ == "__main__":
    main()
