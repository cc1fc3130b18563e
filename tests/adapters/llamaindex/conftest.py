"""Fixtures for the LlamaIndex adapter tests (skipped when the ``llamaindex`` extra is absent)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("llama_index.core")

from _li_support import KINDS, Counted

from airs_plugins import Shield
from airs_plugins.llamaindex import guard_tools


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def counted() -> Counted:
    return Counted()


@pytest.fixture
def guarded(counted: Counted) -> Callable[[Shield], list[Any]]:
    return lambda shield: guard_tools(counted.tools(), shield)
