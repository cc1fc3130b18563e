"""Tool allow/deny lists and argument JSON Schema validation (MASO EC-1.2, EC-1.8, SC-1.3)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from .._decision import Action, Channel, Finding, Severity, Subject
from .._policy import CheckConfig, Policy
from ._base import QUOTED_CHARS, BaseCheck, quoted
from ._registry import register_check


@register_check("tool.policy")
class ToolPolicyCheck(BaseCheck):
    """Denied tools are blocked; unknown tools follow ``policy.unknown_tools``; arguments must match
    the tool's ``args_schema`` and size limit. Schemas are compiled once per Shield."""

    id = "tool.policy"
    channels = frozenset({Channel.TOOL_CALL})
    maso = ("EC-1.2", "EC-1.8", "SC-1.3")
    option_defaults: ClassVar[Mapping[str, Any]] = {}  # what it enforces is the policy's ``tools``

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        self._validators: dict[str, Any] = {}
        for name, tool in policy.tools.items():
            if tool.args_schema is not None:
                from jsonschema import Draft202012Validator

                Draft202012Validator.check_schema(tool.args_schema)
                self._validators[name] = Draft202012Validator(tool.args_schema)

    def run(self, subject: Subject) -> Sequence[Finding]:
        name = subject.tool_name or ""
        tool = self.policy.tool(name)
        if not tool.allow:
            return [self.finding("tool_policy", score=1.0, severity=Severity.HIGH, action=Action.BLOCK,
                                 maso=("EC-1.2",), message=f"tool {quoted(name)} is denied by policy")]
        out: list[Finding] = []
        if not self.policy.known_tool(name) and self.policy.unknown_tools != "allow":
            out.append(self.finding(
                "tool_policy", score=1.0, severity=Severity.MEDIUM,
                action=Action(self.policy.unknown_tools), maso=("EC-1.2", "SC-1.3"),
                message=f"tool {quoted(name)} is not in the policy's tool inventory"))
        limit = tool.rules.max_arg_bytes
        if limit is not None:
            size = len(subject.payload.encode("utf-8", "surrogatepass"))
            if size > limit:
                out.append(self.finding("limit", score=1.0, severity=Severity.MEDIUM,
                                        action=Action.BLOCK, maso=("EC-1.8",),
                                        message=f"arguments are {size} bytes (limit {limit})"))
        validator = self._validators.get(name)
        if validator is not None:
            # json.loads (what tool-call parsers use) accepts NaN and Infinity, which JSON does not, and every
            # comparison with NaN is false: {"amount": NaN} satisfies "maximum: 100"
            bad = _non_finite(subject.tool_args or {})
            if bad is not None:
                from .._policy import format_path

                where = _short(format_path(bad) or "<args>", QUOTED_CHARS)
                out.append(self.finding(
                    "format", score=1.0, severity=Severity.MEDIUM, action=Action.BLOCK, maso=("EC-1.8",),
                    message=f"arguments of {quoted(name)} hold a number that is not finite at {where}"))
            errors = sorted(validator.iter_errors(subject.tool_args or {}),
                            key=lambda e: list(map(str, e.absolute_path)))
            if errors:
                from .._policy import format_path

                first = errors[0]
                where = _short(format_path(first.absolute_path) or "<args>", QUOTED_CHARS)
                out.append(self.finding(
                    "format", score=1.0, severity=Severity.MEDIUM, action=Action.BLOCK,
                    maso=("EC-1.8",),
                    message=f"arguments do not match the schema of {quoted(name)} at {where}: {_broken_rule(first)}"))
        return out


_NAMES_THE_RULE = frozenset({"required", "dependentRequired", "dependencies"})
"""Keywords whose message names only what the schema says (the properties it requires)."""


def _broken_rule(error: Any) -> str:
    """What the arguments broke, in the schema's words. jsonschema's own message quotes the value, which the
    message carries into the audit trail, the approval request and the stream: a secret the model put in an
    argument (caught by the secrets check too) would be stored in clear, where payloads are kept as digests."""
    if error.validator in _NAMES_THE_RULE:
        return _short(str(error.message))
    return _short(f"fails {error.validator!s} {json.dumps(error.validator_value, default=str)}")


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _non_finite(args: Any) -> list[str | int] | None:
    """The path of the first NaN or infinite number in ``args``, or None."""
    stack: list[tuple[list[str | int], Any]] = [([], args)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return path
        if isinstance(value, dict):
            stack.extend(([*path, str(k)], v) for k, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend(([*path, i], v) for i, v in enumerate(value))
    return None
