"""Test-only checks with fixed behaviour, so core tests do not depend on the L1 suite's tuning."""

from __future__ import annotations

from collections.abc import Sequence

from airs_plugins import Channel, Finding, Severity, Subject


class MarkerCheck:
    """Flags the marker text with a fixed score; an attack category so it feeds taint."""

    channels = frozenset(Channel)
    maso = ("PG-1.1",)
    attack_categories = frozenset({"injection"})

    def __init__(self, marker: str = "INJECT", score: float = 0.95, check_id: str = "test.marker",
                 category: str = "injection") -> None:
        self.marker = marker
        self.score = score
        self.id = check_id
        self.category = category

    def run(self, subject: Subject) -> Sequence[Finding]:
        pos = subject.payload.find(self.marker)
        if pos < 0:
            return []
        return [Finding(check=self.id, category=self.category, severity=Severity.HIGH, score=self.score,
                        spans=((pos, pos + len(self.marker)),), message=f"marker {self.marker!r}",
                        maso=self.maso, attack=self.category in self.attack_categories)]


class ExplodingCheck:
    """Raises on every subject, like a buggy third-party check."""

    id = "test.exploding"
    channels = frozenset(Channel)
    maso = ()
    attack_categories = frozenset()

    def run(self, subject: Subject) -> Sequence[Finding]:
        raise RuntimeError("boom")


CORE_CHECK_IDS = ("limit.size", "limit.caps", "tool.policy", "taint.flow")


def core_policy(**extra: object) -> dict[str, object]:
    """A policy dict that runs only the core checks (the L1 suite is tested on its own)."""
    checks = [{"id": "limit.size", "bands": {"low": 0.2, "high": 0.9}}, {"id": "limit.caps"},
              {"id": "tool.policy"}, {"id": "taint.flow", "action": "require_approval"}]
    return {"checks": checks, **extra}
