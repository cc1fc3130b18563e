"""``airs``: scan, policy, audit, ledger, demo (and eval/bench when ``airs_plugins.eval`` is present).

Exit codes: 0 whenever a Decision was printed (whatever its action), 1 for a failed verification,
2 for usage or policy errors. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from .._errors import AIRSError, PolicyError

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse prints usage + exits 2; keep that, one line
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"airs: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from .._version import __version__

    p = _Parser(prog="airs", description="airs-plugins: runtime security for LLM agents.")
    p.add_argument("--version", action="version", version=f"airs-plugins {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    from . import audit_cmd, demo_cmd, ledger_cmd, policy_cmd, scan_cmd

    scan_cmd.register(sub)
    policy_cmd.register(sub)
    audit_cmd.register(sub)
    ledger_cmd.register(sub)
    demo_cmd.register(sub)
    try:
        from ..eval import cli as eval_cli
    except ImportError:
        eval_cli = None  # type: ignore[assignment]
    if eval_cli is not None:
        eval_cli.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except PolicyError as exc:
        print(f"airs: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AIRSError as exc:
        print(f"airs: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        # a file named on the command line that cannot be read or written (missing, a directory, disk full):
        # one line and 2, never a traceback whose exit 1 reads as "verification failed" to a cron job
        print(f"airs: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return code


def print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False))
