"""``airs audit verify|tail|export``."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("audit", help="verify, tail or export an audit trail")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION")
    asub.required = True
    v = asub.add_parser("verify", help="verify the hash chain; exit 1 naming the first bad record")
    v.add_argument("path", help="SQLite audit file or JSONL export")
    v.add_argument("--anchor", metavar="SEQ:HASH",
                   help="a JSONL export of a bounded in-memory trail starts after this record (MemoryRecorder.anchor)")
    v.add_argument("--head", metavar="SEQ:HASH",
                   help="a JSONL export must end with this record (airs audit export prints it): a truncated "
                        "export fails")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=verify)
    t = asub.add_parser("tail", help="print the newest records")
    t.add_argument("path")
    t.add_argument("-n", type=_count, default=10, help="how many of the newest records (default 10)")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=tail)
    e = asub.add_parser("export", help="export every record")
    e.add_argument("path")
    e.add_argument("--jsonl", action="store_true", help="one JSON record per line (the default and only format)")
    e.add_argument("-o", "--output", help="write to this file instead of stdout")
    e.set_defaults(func=export)


def verify(args: argparse.Namespace) -> int:
    from ..audit import verify as verify_path
    from ..audit._chain import audit_key

    result = verify_path(args.path, anchor=_anchor(args.anchor, "--anchor") if args.anchor else None,
                         head=_anchor(args.head, "--head") if args.head else None)
    keyed = audit_key() is not None
    if args.json:
        print(json.dumps({"ok": result.ok, "count": result.count, "head_hash": result.head_hash,
                          "first_bad_seq": result.first_bad_seq, "problem": result.problem or None,
                          "dropped": result.dropped, "keyed": keyed}))
    else:
        # an unkeyed OK only says the chain is whole: anyone who rewrote a keyed trail as an unkeyed one gets it too
        how = "checked with AIRS_AUDIT_KEY" if keyed else \
            "checked without a key (AIRS_AUDIT_KEY is not set): a keyed trail needs it to be verified"
        print(f"{result} ({how})", file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _count(text: str) -> int:
    """``-n``: a number of records, 0 or more (a negative one listed the whole trail from its first record)."""
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        msg = f"a number of records (0 or more), not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return n


def _anchor(text: str, option: str) -> tuple[int, str]:
    from .._errors import AuditError

    seq, _, digest = text.partition(":")
    if not (seq.isdigit() and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        msg = f"{option} takes SEQ:HASH (a record number and its 64-hex-digit hash), not {text!r}"
        raise AuditError(msg)
    return int(seq), digest


def tail(args: argparse.Namespace) -> int:
    from ..audit._sqlite import read_trail

    for r in read_trail(args.path, newest=args.n):
        if args.json:
            print(r.to_json())
        else:
            b = r.body
            what = _shown(b.get("action") or "")
            extra = " ".join(f"{k}={_shown(b[k])}" for k in ("channel", "tool_name", "layer", "reason") if b.get(k))
            print(f"#{r.seq} {_shown(r.kind) or '(damaged)':<17} {what:<16} {extra}")
    return 0


def _shown(value: object) -> str:
    """``value`` for a terminal: what cannot be shown as itself escaped. A tool name or a reason is written by the
    model or a reviewer: raw, an escape sequence or a bidi override in it would rewrite the lines an operator
    reads, and a lone surrogate would stop the listing with a traceback."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in str(value))


def export(args: argparse.Namespace) -> int:
    from ..audit._sqlite import read_trail

    records = read_trail(args.path)
    first = next(records, None)  # a missing or unreadable trail fails before the output file is made
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    last = None
    try:
        for r in itertools.chain(() if first is None else (first,), records):
            out.write(r.to_json() + "\n")
            last = r
    finally:
        if args.output:
            out.close()
    if last is not None:  # an export has no head of its own: what to keep to find it truncated later
        print(f"exported to record {last.seq}; verify it later with --head {last.seq}:{last.hash}", file=sys.stderr)
    return 0
