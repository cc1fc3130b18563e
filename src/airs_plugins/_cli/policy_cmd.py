"""``airs policy validate|schema``."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("policy", help="validate a policy or print its JSON Schema")
    psub = p.add_subparsers(dest="policy_command", metavar="ACTION")
    psub.required = True
    v = psub.add_parser("validate", help="check a policy file; prints its hash when valid")
    v.add_argument("file")
    v.set_defaults(func=validate)
    s = psub.add_parser("schema", help="print the policy JSON Schema shipped in the package")
    s.set_defaults(func=schema)


def validate(args: argparse.Namespace) -> int:
    from .._policy import load_policy
    from ..checks import build_suite

    policy = load_policy(args.file)
    if policy.checks is not None:
        # built as the Shield builds them: a misspelt check id or options a check refuses would pass here and
        # then stop the agent from starting
        build_suite(policy)
    print(f"OK: {args.file} is valid ({len(policy.tools)} tools, mode {policy.mode}) policy_hash={policy.hash}")
    return 0


def schema(args: argparse.Namespace) -> int:
    from .._policy import schema as load_schema

    print(json.dumps(load_schema(), indent=2, sort_keys=True))
    return 0
