"""Multi-pattern matching on RE2: one ``re2.Set`` prefilter per check, spans only for the hits.

RE2 runs in linear time (no backtracking), so no pattern here can blow up on adversarial input; a
text that hits nothing costs one pass of the set's automaton (notes/regex-engines.md: ~8 µs for 40
patterns over 4 KB, against ~2 ms with Python ``re``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import re2

from .._normalize import View

_MAX_MEM = 64 << 20
_MAX_SPANS_PER_PATTERN = 64


def _options(case_sensitive: bool) -> Any:
    opts = re2.Options()
    opts.case_sensitive = case_sensitive
    opts.max_mem = _MAX_MEM
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
        self._set = re2.Set.SearchSet(opts)
        for key, pattern in patterns:
            index = self._set.Add(pattern)
            if index != len(self.keys):  # pragma: no cover - RE2 numbers patterns in order
                msg = f"unexpected RE2 set index for {key!r}"
                raise RuntimeError(msg)
            self.keys.append(key)
            self._compiled.append(re2.compile(pattern, options=opts))
        self._set.Compile()

    def __len__(self) -> int:
        return len(self.keys)

    def ids_hit(self, text: str | bytes) -> list[int]:
        if not self.keys or not text:
            return []
        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        found = self._set.Match(data)
        return sorted(found) if found else []

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
