"""A self-contained HTML report: matplotlib (Agg) PNGs embedded as base64, no scripts, no CDN.

Every number shown in a table cell carries ``data-metric="<path>"`` (a dotted path into the
``--json`` output), and the whole public JSON is embedded in ``<script type="application/json"
id="airs-metrics">``, so a test can check the page against ``--json`` cell by cell.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .._version import __version__
from ._deps import need

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.8rem 0;font-size:.88rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f4f4f4}img{max-width:100%;border:1px solid #eee;margin:.5rem 0}
.note{color:#555;font-size:.9rem}
"""


def _public(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _public(v) for k, v in obj.items() if not str(k).startswith("_")}
    return obj


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.4f}"
    return html.escape(str(x))


def _cell(value: Any, path: str) -> str:
    return f'<td data-metric="{html.escape(path)}">{_fmt(value)}</td>'


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    need("matplotlib.pyplot", what="the HTML report").close(fig)
    return '<img alt="plot" src="data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode("ascii") + '">'


def _plt() -> Any:
    mpl = need("matplotlib", what="the HTML report")
    mpl.use("Agg")
    return need("matplotlib.pyplot", what="the HTML report")


def _legend(ax: Any) -> None:
    """A legend when something was drawn: a corpus of one kind has no curve, and matplotlib warns on an empty one."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def _curve_plot(named: Sequence[tuple[str, dict[str, Any]]]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for name, m in named:
        pts = m.get("curve") or []
        if pts and m.get("n_attack") and m.get("n_benign"):  # a curve needs both kinds of item
            ax.plot([p["fpr"] for p in pts], [p["tpr"] for p in pts], marker=".", label=name)
    ax.set_xlabel("false-positive rate (benign items flagged)")
    ax.set_ylabel("detection rate (attacks flagged)")
    ax.set_title("Detection vs false positives over the attack-finding score threshold")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.grid(alpha=0.3)
    _legend(ax)
    return _png(fig)


def _hist(series: Sequence[tuple[str, Sequence[float]]], title: str, xlabel: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for name, xs in series:
        if xs:
            ax.hist(list(xs), bins=40, alpha=0.6, label=name)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.set_yscale("log")
    _legend(ax)
    ax.grid(alpha=0.3)
    return _png(fig)


def _bars(m: dict[str, Any]) -> str:
    plt = _plt()
    suites = list(m["by_suite"])
    keys = [("utility", "utility (no attack)"), ("utility_under_attack", "utility under attack"),
            ("asr", "ASR (AgentDojo, incl. DoS)"), ("asr_goal", "ASR goal hijacking"),
            ("approval_burden", "approval burden (no attack)")]
    fig, ax = plt.subplots(figsize=(7.5, 4))
    width = 0.8 / (len(keys) + (1 if "undefended" in m else 0))
    for i, (k, label) in enumerate(keys):
        ax.bar([j + i * width for j in range(len(suites))], [m["by_suite"][s].get(k) or 0 for s in suites], width,
               label=label)
    if "undefended" in m:
        und = m["undefended"]["by_suite"]
        ax.bar([j + len(keys) * width for j in range(len(suites))], [und.get(s, {}).get("asr") or 0 for s in suites],
               width, label="ASR (undefended)", color="#bbb")
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(suites))], suites)
    ax.set_ylim(0, 1.05)
    ax.set_title("AgentDojo per suite")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


_CORPUS_COLS = ("n", "n_attack", "n_benign", "n_errors", "recall", "fpr", "precision", "f1", "p50_ms", "p99_ms")
_AD_COLS = ("n_pairs", "utility", "utility_under_attack", "asr", "asr_goal", "dos_success", "hijack_rate",
            "approval_burden", "approval_burden_under_attack", "tool_calls", "l1_ms_per_call", "check_errors")


def _breakdown_table(m: dict[str, Any], prefix: str, cols: tuple[str, ...], kinds: tuple[str, ...],
                     first: str) -> str:
    """The pooled row, then one row per breakdown entry; every cell is tagged with its JSON path."""
    head = f"<tr><th>{first}</th>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>"
    rows = ["<tr><td>all</td>" + "".join(_cell(m.get(c), f"{prefix}.{c}") for c in cols) + "</tr>"]
    for kind in kinds:
        for k, v in m.get(kind, {}).items():
            rows.append(f"<tr><td>{html.escape(kind[3:])}: {html.escape(k)}</td>"
                        + "".join(_cell(v.get(c), f"{prefix}.{kind}.{k}.{c}") for c in cols) + "</tr>")
    return "<table>" + head + "".join(rows) + "</table>"


def _corpus_table(m: dict[str, Any], prefix: str) -> str:
    return _breakdown_table(m, prefix, _CORPUS_COLS, ("by_half", "by_channel", "by_style"), "group")


def _ad_table(m: dict[str, Any], prefix: str) -> str:
    return _breakdown_table(m, prefix, _AD_COLS, ("by_suite", "by_attack"), "scope")


def _examples(rows: Sequence[dict[str, Any]], title: str) -> str:
    if not rows:
        return ""
    items = "".join(f"<li><code>{html.escape(json.dumps(r, ensure_ascii=False)[:400])}</code></li>" for r in rows[:10])
    return f"<h3>{html.escape(title)}</h3><ul class='note'>{items}</ul>"


def render(out: dict[str, Any]) -> str:
    """The report for ``airs eval`` output (keys ``corpus``, ``corpora``, ``agentdojo``; any may be absent)."""
    public = _public(out)
    parts = [f"<h1>airs-plugins evaluation report</h1><p class='note'>airs-plugins {__version__}, generated "
             f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}. All rates are fractions 0–1. No LLM was used.</p>"]
    if out.get("quick"):
        from .cli import QUICK_NOTE

        parts.append(f"<p class='note'><strong>{html.escape(QUICK_NOTE)}.</strong></p>")
    if "corpus" in out:
        named = [(k, v) for k, v in out.get("corpora", {}).items()] or [("corpus", out["corpus"])]
        if "corpora" in out:
            named.append(("all corpora", out["corpus"]))
        parts.append("<h2>Detection on labelled corpora</h2>")
        parts.append(_curve_plot(named))
        parts.append(_hist([(k, v.get("_latencies_ms", [])) for k, v in named[:-1] or named],
                           "Decision latency per item (check_input / check_tool_result, wall time)", "ms"))
        parts.append("<h3>all corpora pooled</h3>" if "corpora" in out else "")
        parts.append(_corpus_table(out["corpus"], "corpus"))
        for k, v in out.get("corpora", {}).items():
            parts.append(f"<h3>{html.escape(k)}</h3>" + _corpus_table(v, f"corpora.{k}"))
        mis = out["corpus"].get("_misses", {})
        parts.append(_examples(mis.get("false_negatives", []), "missed attacks (examples)"))
        parts.append(_examples(mis.get("false_positives", []), "false positives (examples)"))
        parts.append(_examples(mis.get("check_errors", []), "items a check raised on (examples)"))
    if "agentdojo" in out:
        m = out["agentdojo"]
        parts.append("<h2>AgentDojo, offline, fully hijacked scripted agent</h2>")
        parts.append("<p class='note'>Utility = user task solved (no attack); ASR = AgentDojo's security result "
                     "(attacker's goal reached; for denial-of-service attacks: the user's task failed); ASR goal = "
                     "goal-hijacking attacks only; DoS success = denial-of-service attacks only; approval burden = "
                     "share of tool calls routed to the modelled careful reviewer.</p>")
        parts.append(_bars(m))
        fails = m.get("_failures", {})
        l1 = [r["l1_ms"] / max(1, r["calls"]) for k in ("attack_succeeded", "clean_routed") for r in fails.get(k, [])]
        if l1:
            parts.append(_hist([("sampled pairs", l1)], "L1 cost per tool call (sampled pairs)", "ms"))
        parts.append(_ad_table(m, "agentdojo"))
        if "undefended" in m:
            parts.append("<h3>undefended (same agent, no airs-plugins)</h3>" + _ad_table(m["undefended"],
                                                                                   "agentdojo.undefended"))
        parts.append(_examples(fails.get("attack_succeeded", []), "pairs where the attack succeeded"))
        parts.append(_examples(fails.get("clean_routed", []), "clean runs that asked the reviewer"))
        parts.append(_examples(fails.get("check_raised", []), "runs where a check raised"))
    blob = json.dumps(public, ensure_ascii=False).replace("</", "<\\/")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>airs-plugins evaluation</title>"
            f"<style>{_CSS}</style></head><body>{''.join(parts)}"
            f"<script type='application/json' id='airs-metrics'>{blob}</script></body></html>")


def write_report(path: str, out: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(render(out))
