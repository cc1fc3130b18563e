"""The evaluation harness: attack/benign corpora, AgentDojo offline, latency benchmarks, HTML report.

``airs eval`` and ``airs bench`` are the front doors (see :mod:`airs_plugins.eval.cli`). This package
imports without the ``eval`` extra; AgentDojo, matplotlib and rich are imported only by the commands
that need them, and a missing one raises ``MissingExtraError`` naming ``pip install 'airs-plugins[eval]'``.
"""

from __future__ import annotations

from .corpus import CHANNELS, CorpusError, Item, load_corpus, load_shipped, shipped_corpora
from .metrics import CorpusResult, evaluate, summarize

__all__ = [
    "CHANNELS",
    "CorpusError",
    "CorpusResult",
    "Item",
    "evaluate",
    "load_corpus",
    "load_shipped",
    "shipped_corpora",
    "summarize",
]
