"""``airs scan``: decide on one text (argument or stdin) and print the Decision."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .._decision import Decision


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "scan", help="scan a text (or stdin) and print the decision",
        description="Scan TEXT (or stdin when TEXT is - or absent) on a channel and print the Decision. "
                    "Exit 0 whenever a Decision was printed.")
    p.add_argument("text", nargs="?", default="-", help="text to scan; '-' or absent reads stdin")
    p.add_argument("--channel", default="user_input",
                   choices=["user_input", "model_output", "tool_result", "retrieved", "tool_call"])
    p.add_argument("--tool", help="tool name (for tool_call: TEXT is the JSON arguments)")
    p.add_argument("--system-prompt", metavar="FILE",
                   help="the model's system prompt (model_output, tool_call): a recital of it is leakage")
    p.add_argument("--read", metavar="FILE", action="append", default=[],
                   help="a tool result the run read before TEXT (repeatable): taint (tool_call) and grounding "
                        "(model_output) see it, as in an agent")
    p.add_argument("--policy", help="policy file (YAML or JSON)")
    p.add_argument("--audit", help="append the decision to this SQLite audit file")
    p.add_argument("--json", action="store_true", help="print the Decision as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._shield import Shield

    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        what = "the system prompt"
        instructions = _read(args.system_prompt) if args.system_prompt else None
        what = "a --read file"
        read = [(Path(f).stem or "read", _read(f)) for f in args.read]
    except OSError as exc:
        print(f"airs: cannot read {what}: {exc}", file=sys.stderr)
        return 2
    shield = Shield(args.policy, audit=args.audit)
    ctx = None
    for source, content in read:  # what the run read before: taint and grounding work from it
        ctx = shield.check_tool_result(source, content, context=ctx).context
    if args.channel == "user_input":
        d = shield.check_input(text, context=ctx)
    elif args.channel == "model_output":
        d = shield.check_output(text, context=ctx, instructions=instructions)
    elif args.channel == "retrieved":
        d = shield.check_retrieved(text, source=args.tool or "retriever", context=ctx)
    elif args.channel == "tool_result":
        d = shield.check_tool_result(args.tool or "tool", text, context=ctx)
    else:
        try:
            call_args = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            print(f"airs: tool_call arguments must be JSON: {exc.msg}", file=sys.stderr)
            return 2
        if not isinstance(call_args, dict):
            call_args = {"input": call_args}
        d = shield.check_tool_call(args.tool or "tool", call_args, context=ctx, instructions=instructions)
    if args.json:
        print(d.model_dump_json(indent=2))
    else:
        print(render(d, text))
    return 0


def _read(path: str) -> str:
    # what is scanned is often not ours (a saved page, a mail in Latin-1): a byte that is not UTF-8 becomes
    # U+FFFD and the rest is still decided, rather than the scan stopping with a traceback
    return Path(path).read_bytes().decode("utf-8", "replace")


def render(d: Decision, text: str) -> str:
    head = f"{d.action.value.upper()}  layer={d.layer.value} status={d.status.value} tier={d.risk_tier.value}"
    lines = [head + (f"  ({d.reason})" if d.reason else "")]
    for f in d.findings:
        lines.append(f"  - {f.check} [{f.category}/{f.severity.value}] score={f.score:.2f} {f.message}")
        for s, e in f.spans[:5]:
            snippet = text[s:e].replace("\n", "\\n")
            if len(snippet) > 60:
                snippet = snippet[:57] + "..."
            lines.append(f"      span {s}:{e} {snippet!r}")
    if d.redacted is not None:
        lines.append(f"  redacted: {d.redacted[:500]}")
    lines.append(f"  latency={d.latency_ms:.3f} ms  correlation_id={d.correlation_id}")
    return "\n".join(lines)
