"""``airs ledger prune|sign``: drop the entries of threads that have gone quiet from a file ledger; sign the
entries written before the ledger was keyed."""

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
    sg = lsub.add_parser("sign", help="sign the entries written before the ledger was keyed (AIRS_AUDIT_KEY), "
                                      "once, on a file you trust as it stands")
    sg.add_argument("path", help="SQLite ledger file (Shield(ledger=PATH), AIRS_LEDGER_PATH)")
    sg.set_defaults(func=sign)


def _is_ledger(path: str) -> bool:
    """The file is a SQLite database with the ledger's table (read only: another file is left untouched)."""
    import sqlite3
    from pathlib import Path

    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='tool_ledger'").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
    return found is not None


def _existing_ledger(path: str) -> None:
    """Raise unless ``path`` is a ledger file (checked before anything opens it for writing)."""
    from pathlib import Path

    from .._errors import AuditError

    if not Path(path).is_file():
        msg = f"no ledger database at {path}"
        raise AuditError(msg)
    if not _is_ledger(path):
        msg = f"{path} is not an execution ledger (no tool_ledger table); nothing was changed"
        raise AuditError(msg)


def prune(args: argparse.Namespace) -> int:
    import math
    from pathlib import Path

    from .._errors import AuditError
    from .._ledger import SQLiteLedger

    if not Path(args.path).is_file():
        msg = f"no ledger database at {args.path}"
        raise AuditError(msg)
    if not all(math.isfinite(d) and d >= 0 for d in (args.idle_days, args.paused_keep_days)):
        msg = "--idle-days and --paused-keep-days must be numbers of days, not negative"
        raise AuditError(msg)
    _existing_ledger(args.path)
    threads, rows = SQLiteLedger(args.path).prune(idle_s=args.idle_days * _DAY,
                                                  paused_keep_s=args.paused_keep_days * _DAY)
    if args.json:
        print(json.dumps({"threads": threads, "entries": rows}))
    else:
        print(f"pruned {rows} entries of {threads} threads from {args.path}")
    return 0


def sign(args: argparse.Namespace) -> int:
    from .._errors import AuditError
    from .._ledger import SQLiteLedger
    from ..audit._chain import audit_key

    _existing_ledger(args.path)
    if audit_key() is None:  # checked before the file is opened for writing
        msg = "no key to sign the ledger with: set AIRS_AUDIT_KEY (the key the Shield's ledger and audit use)"
        raise AuditError(msg)
    print(f"signed {SQLiteLedger(args.path).sign_unsigned()} entries of {args.path}")
    return 0
