"""Size limits and per-run caps (MASO EC-1.3 rate limit, EC-1.5 turn cap, EC-1.10 retry cap)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from .._decision import Action, Channel, Finding, RunContext, Severity, Subject
from ._base import ALL_TEXT_CHANNELS, BaseCheck, quoted
from ._registry import register_check

if TYPE_CHECKING:
    from .._policy import CheckConfig, Policy

HOUR = 3600.0


@register_check("limit.size")
class SizeLimit(BaseCheck):
    """Inputs above ``max_scan_bytes`` are scanned in bounded chunks and flagged here.

    Options: ``max_bytes`` (hard cap; above it the subject is decided by the check's action).
    """

    id = "limit.size"
    channels = ALL_TEXT_CHANNELS | {Channel.TOOL_CALL}
    maso = ("EC-1.8", "PG-1.1")
    option_defaults: ClassVar[Mapping[str, Any]] = {"max_bytes": None, "oversize_score": 0.3}

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        hard = self.options["max_bytes"]
        self._hard = int(hard) if hard is not None else None
        self._oversize_score = float(self.options["oversize_score"])

    def run(self, subject: Subject) -> Sequence[Finding]:
        size = len(subject.payload.encode("utf-8", "surrogatepass"))
        hard = self._hard
        if hard is not None and size > hard:
            return [self.finding("limit", score=1.0, severity=Severity.HIGH,
                                 message=f"payload is {size} bytes, above the hard cap of {hard}")]
        if size > subject.max_scan_bytes:
            return [self.finding("limit", score=self._oversize_score,
                                 severity=Severity.LOW,
                                 message=f"payload is {size} bytes; scanned in chunks of "
                                         f"{subject.max_scan_bytes}")]
        return []


@register_check("limit.caps")
class RunCaps(BaseCheck):
    """Per-run caps from ``policy.caps``: calls per tool per hour, identical-call loops, turns, retries.

    A retry is an answer the product itself sends back to the model to be made again (``judge_node``'s retry
    route); it is counted in ``RunContext.retries``, from the user's latest input, by
    :meth:`~airs_plugins.Shield.count_retry`, which asks :meth:`refuses_retry` first."""

    id = "limit.caps"
    channels = frozenset({Channel.TOOL_CALL, Channel.MODEL_OUTPUT})
    maso = ("EC-1.3", "EC-1.5", "EC-1.10")
    option_defaults: ClassVar[Mapping[str, Any]] = {}  # the caps are the policy's ``caps``

    def run(self, subject: Subject) -> Sequence[Finding]:
        caps = self.policy.caps
        ctx = subject.context
        action = Action(caps.action)
        out: list[Finding] = []
        if subject.channel is Channel.MODEL_OUTPUT:
            if caps.turns is not None and ctx.turns >= caps.turns:
                out.append(self.finding("limit", score=1.0, action=action, maso=("EC-1.5",),
                                        message=f"turn cap reached: {ctx.turns} of {caps.turns}"))
            return out
        name = subject.tool_name or ""
        now = time.time()
        recent = [t for t in ctx.tool_calls.get(name, ()) if now - t < HOUR]
        if caps.tool_calls_per_hour is not None and len(recent) >= caps.tool_calls_per_hour:
            out.append(self.finding(
                "limit", score=1.0, action=action, maso=("EC-1.3",),
                message=f"rate cap: {len(recent)} calls to {quoted(name)} in the last hour "
                        f"(cap {caps.tool_calls_per_hour})"))
        sig = subject.call_signature
        seen = ctx.call_signatures.get(sig, 0)
        if caps.identical_calls is not None and seen >= caps.identical_calls:
            out.append(self.finding(
                "limit", score=1.0, action=action, maso=("EC-1.10",),
                message=f"loop: identical call to {quoted(name)} made {seen} times "
                        f"(cap {caps.identical_calls})"))
        if caps.retries is not None and ctx.retries > caps.retries:
            # Shield.count_retry stops counting at the cap: a context past it was counted under a higher one
            out.append(self.finding("limit", score=1.0, action=action, maso=("EC-1.10",),
                                    message=f"retry cap: {ctx.retries} retries (caps.retries {caps.retries})"))
        return out

    def refuses_retry(self, ctx: RunContext) -> str | None:
        """Why the run may not retry once more (the retries it made since the user's input reach
        ``caps.retries``); None when it may."""
        cap = self.policy.caps.retries
        if cap is None or ctx.retries < cap:
            return None
        return f"retry cap reached: {ctx.retries} retries since the user's input (caps.retries {cap})"
