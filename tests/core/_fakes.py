"""Test-only checks with fixed behaviour, so core tests do not depend on the L1 suite's tuning."""

from __future__ import annotations

from collections.abc import Sequence

from airs_plugins import Channel, Finding, Subject
from airs_plugins.testing import KeywordCheck


def MarkerCheck(marker: str = "INJECT", score: float = 0.95, check_id: str = "test.marker",
                category: str = "injection") -> KeywordCheck:
    """The public KeywordCheck with this suite's defaults (an injection-like marker)."""
    return KeywordCheck(marker, score, category=category, check_id=check_id, redact_label=f"[{category.upper()}]")


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
