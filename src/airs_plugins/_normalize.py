"""Text preparation shared by every text check, computed once per subject.

A :class:`ScanText` holds the original payload and one or more *views* of it (the raw text, a
normalised text, decoded segments). Each view maps its offsets back to the original so that spans
in findings always index the original payload.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class View:
    """A derived text plus a map from its character offsets to offsets in the original."""

    name: str
    text: str
    offsets: Sequence[int] | None = None
    """``offsets[i]`` is the original index of ``text[i]`` (len(text)+1 entries); None = identity."""
    base: int = 0
    """Added to every mapped offset (for chunks and decoded segments of the original)."""
    span_of_origin: tuple[int, int] | None = None
    """For decoded segments: the whole encoded region in the original (spans collapse to it)."""
    ends: Sequence[int] | None = None
    """``ends[i]`` is the original index one past the source of ``text[i]``; None = ``offsets[i] + 1``. Set when
    one character of the view stands for several of the original (``\\u0041`` decoded to ``A``), so a span
    ending on it covers the whole escape."""

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        if self.span_of_origin is not None:
            return self.span_of_origin
        if self.offsets is None:
            return (self.base + start, self.base + end)
        n = len(self.offsets) - 1
        s = self.offsets[min(max(start, 0), n)]
        # the end is one past the last matched character's origin, so characters removed between
        # the match and the next kept character (zero-width, bidi) are not pulled into the span
        last = min(max(end - 1, 0), n)
        ends = self.ends
        e = (ends[last] if ends is not None else self.offsets[last] + 1) if end > start else s
        return (self.base + s, self.base + max(e, s))


@dataclass(frozen=True)
class ScanText:
    original: str
    views: tuple[View, ...]
    oversized: bool = False
    flags: frozenset[str] = field(default_factory=frozenset)
    """Signals found while normalising (e.g. ``zero_width``, ``unicode_tags``, ``bidi``)."""

    @property
    def primary(self) -> View:
        return self.views[0]


def prepare(text: str, *, max_scan_bytes: int = 65536) -> ScanText:
    """Build the views of ``text``. Replaced by the L1 normaliser when it is importable."""
    try:
        from .checks._textprep import prepare as full_prepare
    except ImportError:  # pragma: no cover - the L1 suite ships with the core
        return ScanText(original=text, views=(View("raw", text),), oversized=len(text) > max_scan_bytes)
    return full_prepare(text, max_scan_bytes=max_scan_bytes)
