r"""Verbatim runs of a system prompt in what a model says or sends: word shingles, compared as tuples.

Words are runs of word characters (``\w+``: one greedy class, linear time), lower-cased, so a recital
survives changed case, punctuation, spacing and markdown around it. A text recites the prompt where ``n``
consecutive words of it are ``n`` consecutive words of the prompt; overlapping windows chain into one run.
The prompt's windows are computed once per prompt and kept for the last 16 prompts (a process sees few
distinct system prompts).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_WORD = re.compile(r"\w+")  # one character class, greedy: linear, nothing to backtrack into
_MAX_WORDS = 10_000  # what a text contributes (about 60 KB of prose)
_MAX_PROMPT_WORDS = 5_000  # what a prompt contributes: its windows take about 3 KB per 10 words, 16 prompts kept


@dataclass(frozen=True)
class Recital:
    """What of the prompt a text repeats word for word."""

    words: int
    """Words in the longest verbatim run."""
    share: float
    """Part of the prompt's windows the text repeats (0–1)."""
    spans: tuple[tuple[int, int], ...]
    """Character spans of the verbatim runs in the text."""


@dataclass(frozen=True)
class _Windows:
    all: frozenset[tuple[str, ...]]
    ends: frozenset[tuple[str, str]]
    """(first word, last word) of each window: a cheap test that rules out almost every position."""


def _tokens(text: str, limit: int = _MAX_WORDS) -> list[str]:
    return list(map(str.lower, _WORD.findall(text)[:limit]))


@functools.lru_cache(maxsize=16)
def _prompt_windows(prompt: str, n: int) -> _Windows:
    words = _tokens(prompt[:_MAX_PROMPT_WORDS * 20], _MAX_PROMPT_WORDS)  # no word-finding past what is kept
    windows = frozenset(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return _Windows(windows, frozenset((w[0], w[-1]) for w in windows))


def recital(text: str, prompt: str, n: int) -> Recital | None:
    """The verbatim runs of ``prompt`` (``n`` words or longer) in ``text``; None when there are none."""
    windows = _prompt_windows(prompt, n)
    if not windows.all:
        return None
    tokens = _tokens(text)
    hits = [i for i, ends in enumerate(zip(tokens, tokens[n - 1:], strict=False))  # pairs (word i, word i+n-1)
            if ends in windows.ends and tuple(tokens[i:i + n]) in windows.all]
    if not hits:
        return None
    runs: list[tuple[int, int]] = []  # (first word, last word) of each verbatim run
    for i in hits:
        if runs and i == runs[-1][1] - n + 2:  # the window after the previous one: the run goes on
            runs[-1] = (runs[-1][0], i + n - 1)
        else:
            runs.append((i, i + n - 1))
    seen = {tuple(tokens[i:i + n]) for i in hits}
    # character offsets only for the words the runs need (a text that recites nothing never gets here)
    bounds = [m.span() for m, _ in zip(_WORD.finditer(text), range(runs[-1][1] + 1), strict=False)]
    return Recital(words=max(b - a + 1 for a, b in runs), share=len(seen) / len(windows.all),
                   spans=tuple((bounds[a][0], bounds[b][1]) for a, b in runs))
