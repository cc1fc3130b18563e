"""Shared fixtures: a clean environment for every test (no AIRS_* variables leak in)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Run every test without AIRS_* environment variables and restore the environment after."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith("AIRS_"):
            del os.environ[key]
    yield
    os.environ.clear()
    os.environ.update(saved)
