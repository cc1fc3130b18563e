"""A test check built from rules (no framework imported): each rule flags its marker on its channels with
its action, so a test can make any channel block, redact or ask for review without the L1 suite."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from airs_plugins import Action, Channel, Finding, Severity, Subject


@dataclass(frozen=True)
class Rule:
    marker: str
    channels: frozenset[Channel]
    action: Action
    label: str = "[MASKED]"
    extend: int = 0
    """Also flag this many characters after the marker (e.g. to break the JSON the marker ends)."""


def rule(marker: str, channel: Channel, action: Action, **kw: object) -> Rule:
    return Rule(marker, frozenset({channel}), action, **kw)  # type: ignore[arg-type]


class RuleCheck:
    maso = ("DP-2.1",)
    attack_categories: frozenset[str] = frozenset()

    def __init__(self, *rules: Rule, check_id: str = "test.rules") -> None:
        self.id = check_id
        self.rules = rules
        self.channels = frozenset(c for r in rules for c in r.channels)

    def run(self, subject: Subject) -> Sequence[Finding]:
        out: list[Finding] = []
        for r in self.rules:
            at = subject.payload.find(r.marker)
            if at >= 0 and subject.channel in r.channels:
                end = min(len(subject.payload), at + len(r.marker) + r.extend)
                out.append(Finding(check=self.id, category="leak", severity=Severity.HIGH, score=1.0,
                                   spans=((at, end),), action=r.action, redact_label=r.label,
                                   message=f"{r.action.value} marker in {subject.channel.value}"))
        return out
