"""Rule of two, argument-level: untrusted content read + an outward action ⇒ a gate.

* the call's arguments carry a value that only appeared next to a detected attack ⇒
  ``taint.on_injected_args`` (block by default);
* they carry a value read from untrusted content ⇒ ``taint.on_tainted_args`` (approval);
* untrusted content read in this run had attack findings ⇒ ``taint.on_untrusted_with_findings``;
* otherwise (values from the user's own request) ⇒ nothing.

Applies to tools whose side effect is external, irreversible or unknown (MASO PG-1.4, DP-2.1, EC-1.6).
"""

from __future__ import annotations

from collections.abc import Sequence

from .._decision import Action, Channel, Finding, Severity, Subject
from .._taint import arg_values, extract_values
from ._base import BaseCheck
from ._registry import register_check


@register_check("taint.flow")
class TaintFlow(BaseCheck):
    id = "taint.flow"
    channels = frozenset({Channel.TOOL_CALL})
    maso = ("PG-1.4", "DP-2.1", "EC-1.6")
    attack_categories = frozenset({"exfiltration"})

    def run(self, subject: Subject) -> Sequence[Finding]:
        taint = self.policy.taint
        ctx = subject.context
        if not taint.enabled or not ctx.observations:
            return []
        side = subject.side_effect or self.policy.tool(subject.tool_name or "").side_effect
        if not side.reaches_outside:
            return []
        name = subject.tool_name or ""
        args = arg_values(subject.tool_args or {})
        user = extract_values(ctx.user_goal or "")
        user |= {v for v in arg_values(ctx.user_goal or "")}
        injected: set[str] = set()
        clean: set[str] = set()
        read: set[str] = set()
        for obs in ctx.observations:
            read.update(obs.values)
            injected.update(obs.injected_values)
            if not obs.attack_categories:
                clean.update(obs.values)
        only_injected = (args & injected) - user - clean
        if only_injected and taint.on_injected_args != "allow":
            return [self.finding(
                "exfiltration", score=1.0, severity=Severity.CRITICAL,
                action=Action(taint.on_injected_args),
                message=f"{side.value} call {name!r} carries data that appeared only in injected "
                        f"content ({len(only_injected)} value(s))")]
        from_untrusted = (args & read) - user
        if from_untrusted and taint.on_tainted_args != "allow":
            return [self.finding(
                "taint", score=1.0, severity=Severity.HIGH, action=Action(taint.on_tainted_args),
                message=f"{side.value} call {name!r} carries data read from untrusted content "
                        f"({len(from_untrusted)} value(s))")]
        flagged = ctx.untrusted_findings
        if flagged and taint.on_untrusted_with_findings != "allow":
            return [self.finding(
                "taint", score=1.0, severity=Severity.HIGH,
                action=Action(taint.on_untrusted_with_findings),
                message=f"{side.value} call {name!r} after reading untrusted content with "
                        f"findings ({', '.join(flagged)})")]
        return []
