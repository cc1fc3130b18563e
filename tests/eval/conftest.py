"""Eval tests that need the ``eval`` extra skip cleanly without it (the base install has no agentdojo)."""

from __future__ import annotations

import importlib.util

import pytest

HAVE_AGENTDOJO = importlib.util.find_spec("agentdojo") is not None
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None

needs_agentdojo = pytest.mark.skipif(not HAVE_AGENTDOJO, reason="needs the eval extra (agentdojo)")
needs_matplotlib = pytest.mark.skipif(not HAVE_MATPLOTLIB, reason="needs the eval extra (matplotlib)")
