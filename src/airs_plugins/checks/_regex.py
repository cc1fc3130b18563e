"""Multi-pattern matching on RE2: ``re2.Set`` prefilters (one per ``MAX_PER_SET`` patterns), spans only for the hits.

RE2 runs in linear time (no backtracking), so no pattern here can blow up on adversarial input; a
text that hits nothing costs one pass of the set's automaton (notes/regex-engines.md: ~8 µs for 40
patterns over 4 KB, against ~2 ms with Python ``re``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import re2

from .._normalize import View

_MAX_MEM = 64 << 20
_MAX_SPANS_PER_PATTERN = 64
MAX_PER_SET = 72
"""Patterns per ``re2.Set``; a longer list is matched as several sets, one after the other.

RE2 builds a set's automaton as the text needs it, one state per combination of the patterns' progress,
so text the process has not read before costs far more than text it has. Those combinations grow faster
than the list: on 4 KB of prose never seen before, the 281 injection patterns took 13 ms as one set and
3.6 ms as four sets of ~70 in all; a second read of the same text cost about the same either way (0.4 ms).
Each more set is one more match, and each match lets go of the GIL (``benchmarks/bench_contention.py``),
so the sets stay few."""


_QUIET = re2.Options()
_QUIET.log_errors = False

# a pattern's first atom under a counted repeat, ``[a-z]{1,64}@…``: a plain class (no ``[:alpha:]`` inside, no
# ``]`` first), a Perl class escape, or ``.``; then the rest, which must not repeat or be empty
_LEADING_COUNT = re.compile(
    r"^(\(\?[a-zA-Z]+\))?(\[(?:\^(?!\])|(?![\^\]]))(?:\\.|[^\]\\\[])+\]|\\[dDwWsS]|\.)\{(\d+),(\d*)\}(\?)?")


def set_form(pattern: str) -> str:
    """The pattern as a set's prefilter may hold it: without a counted repeat of its first atom.

    A set only says whether a pattern matches somewhere, and ``X{m,n}`` at the very start matches wherever
    ``X{m}`` does (the last ``m`` of the run), so the pattern keeps that much of it. The counted form makes
    the set's automaton track every count at every position: in one set with the checks' other patterns,
    ``pii``'s e-mail pattern and ``_textprep``'s percent-escape probe each made text never seen before
    several times slower to match (the probe: 0.23 → 2.2 ms on 4 KB of code). Spans still come from the
    pattern as written. Anything it cannot read with certainty (a policy's own pattern may hold anything
    RE2 accepts) is left as written."""
    m = _LEADING_COUNT.match(pattern)
    if m is None:
        return pattern
    rest = pattern[m.end():]
    if not rest or rest[0] in "?*+{|)":  # the repeat is not the first atom's alone, or nothing follows it
        return pattern
    flags, atom, low = m.group(1) or "", m.group(2), int(m.group(3))
    kept = "" if low == 0 else atom if low == 1 else f"{atom}{{{low}}}"
    form = flags + kept + rest
    try:
        re2.compile(form, options=_QUIET)
    except Exception:  # whatever RE2 refuses, the pattern as written stands
        return pattern
    return form


def _options(case_sensitive: bool, max_mem: int = _MAX_MEM) -> Any:
    opts = re2.Options()
    opts.case_sensitive = case_sensitive
    opts.max_mem = max_mem
    return opts


def compile_re2(pattern: str, *, case_sensitive: bool = False) -> Any:
    """Compile one pattern with our options (case-insensitive unless asked)."""
    return re2.compile(pattern, options=_options(case_sensitive))


@dataclass(frozen=True)
class Hit:
    """One match of one pattern, in view coordinates and mapped to the original payload."""

    key: str
    view: View
    start: int
    end: int
    span: tuple[int, int]
    text: str


class PatternSet:
    """A named set of RE2 patterns: ``keys_hit`` is the cheap prefilter, ``hits`` adds spans."""

    def __init__(self, patterns: Iterable[tuple[str, str]], *, case_sensitive: bool = False) -> None:
        self.keys: list[str] = []
        self._compiled: list[Any] = []
        opts = _options(case_sensitive)
        for key, pattern in patterns:
            self.keys.append(key)
            self._compiled.append(re2.compile(pattern, options=opts))
        self._sets: list[tuple[int, Any]] = []
        """(index of its first pattern, set): ``MAX_PER_SET`` patterns each, split evenly."""
        count = -(-len(self.keys) // MAX_PER_SET)
        for n in range(count):
            start, end = n * len(self.keys) // count, (n + 1) * len(self.keys) // count
            chunk = re2.Set.SearchSet(_options(case_sensitive, _MAX_MEM // count))  # one budget per list
            for index in range(start, end):
                if chunk.Add(set_form(self._compiled[index].pattern)) != index - start:  # pragma: no cover
                    msg = f"unexpected RE2 set index for {self.keys[index]!r}"  # RE2 numbers them in order
                    raise RuntimeError(msg)
            chunk.Compile()
            self._sets.append((start, chunk))

    def __len__(self) -> int:
        return len(self.keys)

    def ids_hit(self, text: str | bytes) -> list[int]:
        if not self.keys or not text:
            return []
        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        found: list[int] = []
        for start, chunk in self._sets:
            got = chunk.Match(data)
            if got:
                found.extend(start + i for i in got)
        return sorted(found)

    def keys_hit(self, text: str) -> list[str]:
        return [self.keys[i] for i in self.ids_hit(text)]

    def finditer(self, index: int, text: str | bytes, pos: int = 0, endpos: int | None = None) -> Iterator[Any]:
        end = len(text) if endpos is None else endpos
        for count, m in enumerate(self._compiled[index].finditer(text, pos, end), 1):
            yield m
            if count >= _MAX_SPANS_PER_PATTERN:
                return

    def hits(self, views: Sequence[View], *, only: frozenset[str] | None = None) -> list[Hit]:
        """Every match of every pattern that the prefilter reports, over each view."""
        out: list[Hit] = []
        for view in views:
            data = view.text.encode("utf-8", "surrogatepass")
            ids = self.ids_hit(data)
            if only is not None:
                ids = [i for i in ids if self.keys[i] in only]
            if not ids:
                continue
            # ASCII views are matched as bytes: byte offsets are character offsets, which spares the
            # RE2 wrapper's byte-to-character conversion on every match
            ascii_view = len(data) == len(view.text)
            subject: str | bytes = data if ascii_view else view.text
            for index in ids:
                key = self.keys[index]
                for m in self.finditer(index, subject):
                    s, e = m.start(), m.end()
                    if e <= s:
                        continue
                    matched = m.group(0)
                    text = matched.decode("ascii") if isinstance(matched, bytes) else matched
                    out.append(Hit(key, view, s, e, view.to_original(s, e), text))
        return out
