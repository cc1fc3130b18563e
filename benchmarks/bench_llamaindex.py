"""Overhead of guard_tools on a scripted 10-step LlamaIndex FunctionAgent run, in one process.

    python benchmarks/bench_llamaindex.py [--json] [--steps 10] [--delay-ms 20] [--runs 7] [--audit memory|sqlite]

The model is scripted and takes ``--delay-ms`` per call (a fast hosted model), so the ratio shows what
the guard adds to a realistic run: per tool step one tool-call check, one tool-result check, a ledger
claim/complete and the audit records. Bare and guarded runs alternate, each round starting with the
other one. ``bare_ms``/``guarded_ms`` are the best of ``--runs`` (the timeit convention: the run least
disturbed by other load on the machine); the medians are reported next to them, and so is the median of
the per-round ratios with a 95 % bootstrap interval (``paired_ratio``, ``paired_ratio_ci95``), the
figure least moved by the machine's drift during the session. Target: ratio ≤ 1.05.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.tools import FunctionTool

from airs_plugins import Shield
from airs_plugins._bench import paired_ratio, rotated
from airs_plugins.llamaindex import guard_tools
from airs_plugins.llamaindex.testing import answer, call, scripted_llm

POLICY = {"tools": {"lookup": {"risk_tier": "LOW", "side_effect": "read"}}}


def lookup(key: str) -> str:
    """Look a key up in the catalogue."""
    return f"record {key}: status=active, owner=team-{len(key)}, updated=2026-11-01"


def _agent(tools: list[Any], steps: int, delay_s: float) -> FunctionAgent:
    script = [call("lookup", key=f"item-{i}") for i in range(steps)] + [answer("All records looked up.")]
    return FunctionAgent(tools=tools, llm=scripted_llm(script, delay_s=delay_s))


async def _once(tools: list[Any], steps: int, delay_s: float) -> tuple[float, float]:
    """Wall and CPU milliseconds of one run (the model's delay is a sleep: wall time, no CPU)."""
    agent = _agent(tools, steps, delay_s)
    t0, c0 = time.perf_counter(), time.process_time()
    await agent.run(user_msg="Look up every item in the catalogue.")
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


async def measure(*, steps: int = 10, delay_ms: float = 20.0, runs: int = 7, audit: str = "memory") -> dict[str, Any]:
    delay_s = delay_ms / 1000
    bare_tools = [FunctionTool.from_defaults(lookup)]
    with tempfile.TemporaryDirectory(prefix="airs-bench-li-") as tmp:
        kwargs: dict[str, Any] = {}
        if audit == "sqlite":
            kwargs = {"audit": Path(tmp) / "audit.db", "ledger": Path(tmp) / "ledger.db"}
        shield = Shield.from_policy(POLICY, **kwargs)
        await _once(bare_tools, steps, delay_s)  # warm imports, tokenizer and the shield's compiled checks
        await _once(guard_tools([lookup], shield), steps, delay_s)
        bare: list[tuple[float, float]] = []
        guarded: list[tuple[float, float]] = []
        for i in range(runs):
            for name in rotated(["bare", "guarded"], i):
                if name == "bare":
                    bare.append(await _once(bare_tools, steps, delay_s))
                else:
                    guarded.append(await _once(guard_tools([lookup], shield), steps, delay_s))
    bare_ms, guarded_ms = [w for w, _ in bare], [w for w, _ in guarded]
    cpu_added = (statistics.median(c for _, c in guarded) - statistics.median(c for _, c in bare)) / steps
    b, g = min(bare_ms), min(guarded_ms)
    bm, gm = statistics.median(bare_ms), statistics.median(guarded_ms)
    paired = paired_ratio(bare_ms, guarded_ms)
    return {
        "bare_ms": round(b, 2),
        "guarded_ms": round(g, 2),
        "ratio": round(g / b, 4),
        "added_ms_per_step": round((g - b) / steps, 3),
        "steps": steps,
        "bare_ms_median": round(bm, 2),
        "guarded_ms_median": round(gm, 2),
        "ratio_median": round(gm / bm, 4),
        "paired_ratio": paired["median"],
        "paired_ratio_ci95": paired["ci95"],
        "added_cpu_ms_per_step": round(cpu_added, 3),
        "llm_delay_ms": delay_ms,
        "runs": runs,
        "audit": audit,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--delay-ms", type=float, default=20.0)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--audit", choices=("memory", "sqlite"), default="memory")
    p.add_argument("--quick", action="store_true", help="3 runs (CI smoke)")
    args = p.parse_args(argv)
    result = asyncio.run(measure(steps=args.steps, delay_ms=args.delay_ms, runs=3 if args.quick else args.runs,
                                 audit=args.audit))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"LlamaIndex FunctionAgent, {result['steps']} tool steps, scripted model {args.delay_ms:.0f} ms/call, "
              f"audit={args.audit}, best of {result['runs']} runs (median in brackets)")
        print(f"  bare tools     {result['bare_ms']:9.1f} ms  ({result['bare_ms_median']:.1f})")
        print(f"  guarded tools  {result['guarded_ms']:9.1f} ms  ({result['guarded_ms_median']:.1f})")
        print(f"  ratio          {result['ratio']:9.3f}x   ({result['ratio_median']:.3f}x; target <= 1.05x)")
        lo, hi = result["paired_ratio_ci95"]
        print(f"  paired ratio   {result['paired_ratio']:9.3f}x   (median of per-round ratios, 95% {lo:.3f}-{hi:.3f})")
        print(f"  added per step {result['added_ms_per_step']:9.2f} ms wall, "
              f"{result['added_cpu_ms_per_step']:.2f} ms CPU (median; robust to other load)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
