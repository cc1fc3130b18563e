"""Test-only checks with fixed behaviour, so eval tests do not depend on the L1 suite's tuning."""

from __future__ import annotations

from collections.abc import Sequence

from airs_plugins import Action, Channel, Finding, Severity, Subject
from airs_plugins.checks import CORE_CHECKS


class WordCheck:
    """Flags a word with a fixed score and category (an attack category unless told otherwise)."""

    channels = frozenset(Channel)
    maso = ("PG-1.1",)

    def __init__(self, word: str, score: float, category: str = "injection", check_id: str = "test.word",
                 attack: bool = True, action: Action | None = None) -> None:
        self.word = word
        self.score = score
        self.category = category
        self.id = check_id
        self.attack_categories = frozenset({category}) if attack else frozenset()
        self.action = action

    def run(self, subject: Subject) -> Sequence[Finding]:
        pos = subject.payload.find(self.word)
        if pos < 0:
            return []
        return [Finding(check=self.id, category=self.category, severity=Severity.HIGH, score=self.score,
                        spans=((pos, pos + len(self.word)),), attack=self.category in self.attack_categories,
                        redact_label="[X]", action=self.action)]


def core_only_policy(**extra: object) -> dict[str, object]:
    """A policy with only the core checks (no L1 suite), as a dict for ``Shield.from_policy``."""
    return {"checks": [c.model_dump(mode="json") for c in CORE_CHECKS], **extra}
