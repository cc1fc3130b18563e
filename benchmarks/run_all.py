"""Every benchmark in one run (``make bench``): the same code as ``airs bench``.

Run: .venv/bin/python benchmarks/run_all.py [--quick] [--json] [--out results.json]
"""

from __future__ import annotations

import argparse
import json

from airs_plugins.eval.bench import print_bench, run_bench


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ap.add_argument("--out", help="also write the JSON results to this file")
    args = ap.parse_args()
    result = run_bench(quick=args.quick)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_bench(result)


if __name__ == "__main__":
    main()
