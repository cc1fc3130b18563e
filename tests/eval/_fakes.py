"""Test-only checks with fixed behaviour, so eval tests do not depend on the L1 suite's tuning."""

from __future__ import annotations

from airs_plugins import Action
from airs_plugins.checks import CORE_CHECKS
from airs_plugins.testing import KeywordCheck


def WordCheck(word: str, score: float, category: str = "injection", check_id: str = "test.word",
              attack: bool = True, action: Action | None = None) -> KeywordCheck:
    """The public KeywordCheck: flags a word with a fixed score and category."""
    return KeywordCheck(word, score, category=category, check_id=check_id, attack=attack, action=action)


def core_only_policy(**extra: object) -> dict[str, object]:
    """A policy with only the core checks (no L1 suite), as a dict for ``Shield.from_policy``."""
    return {"checks": [c.model_dump(mode="json") for c in CORE_CHECKS], **extra}
