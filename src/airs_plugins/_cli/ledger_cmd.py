"""``airs ledger prune``: drop the entries of threads that have gone quiet from a file ledger."""

from __future__ import annotations

import argparse
import json
from typing import Any

_DAY = 86_400.0


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("ledger", help="maintain an execution ledger file")
    lsub = p.add_subparsers(dest="ledger_command", metavar="ACTION")
    lsub.required = True
    pr = lsub.add_parser("prune", help="delete the entries of threads idle for a while (those that wait for a "
                                       "human or an event are kept longer)")
    pr.add_argument("path", help="SQLite ledger file (Shield(ledger=PATH), AIRS_LEDGER_PATH)")
    pr.add_argument("--idle-days", type=float, required=True,
                    help="threads with no entry written for this many days are deleted")
    pr.add_argument("--paused-keep-days", type=float, default=7.0,
                    help="a thread that waits (a kept decision, a result held for review, a call under way) is "
                         "kept until idle this long (default 7)")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=prune)


def prune(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .._errors import AuditError
    from .._ledger import SQLiteLedger

    if not Path(args.path).is_file():
        msg = f"no ledger database at {args.path}"
        raise AuditError(msg)
    if args.idle_days < 0 or args.paused_keep_days < 0:
        msg = "--idle-days and --paused-keep-days must not be negative"
        raise AuditError(msg)
    threads, rows = SQLiteLedger(args.path).prune(idle_s=args.idle_days * _DAY,
                                                  paused_keep_s=args.paused_keep_days * _DAY)
    if args.json:
        print(json.dumps({"threads": threads, "entries": rows}))
    else:
        print(f"pruned {rows} entries of {threads} threads from {args.path}")
    return 0
