"""Shared helpers for the L1 suite tests: one default Shield and subject builders."""

from __future__ import annotations

from typing import Any

import pytest

from airs_plugins import Channel, Shield, Subject
from airs_plugins._policy import CheckConfig, Policy
from airs_plugins.checks import resolve


@pytest.fixture(scope="session")
def shield() -> Shield:
    return Shield.default()


def make(check_id: str, policy: Policy | None = None, **options: Any) -> Any:
    """Build one registered check with its default config plus ``options``."""
    pol = policy or Policy()
    return resolve(check_id)(CheckConfig(id=check_id, options=options), pol)


def subject(text: str, channel: Channel = Channel.USER_INPUT, **kw: Any) -> Subject:
    return Subject(channel=channel, payload=text, **kw)
