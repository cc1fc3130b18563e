"""What a reviewer reads of a long text: its start, and the passages the findings point at.

An approval request carries a bounded preview (it travels in interrupts and checkpoints). Cut at a fixed length,
a 50 KB web page whose injection sits at character 30,000 reached the reviewer without the very passage that
made it wait for them. The findings' spans index the decided payload, which the adapters pass as the preview.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._decision import Finding
from ._pipeline import apply_redactions

LIMIT = 2000
"""About how many characters of the text a preview shows (the markers between passages come on top)."""
_AROUND = 150
"""Characters shown either side of a finding's span."""
_LONGEST = 600
"""The most one passage shows: a longer span shows its start."""


def shown(text: str, findings: Sequence[Finding], masked: Sequence[Finding] = ()) -> str:
    """``text`` as a reviewer reads it: whole when short; else its start and a passage around each span the
    findings point at, as far as the budget goes, with markers saying how much is not shown. The ``masked``
    findings' spans (secrets) are replaced by their labels, as :func:`apply_redactions` does on the whole."""
    pieces: list[str] = []
    pos = 0
    for start, end in _passages(text, findings):
        if start > pos:
            pieces.append(_gap(start - pos))
        pieces.append(_masked(text, start, end, masked))
        pos = end
    if pos < len(text):
        pieces.append(_gap(len(text) - pos))
    return "".join(pieces)


def _gap(n: int) -> str:
    return f"\n[… {n:,} characters not shown …]\n"


def _passages(text: str, findings: Sequence[Finding]) -> list[tuple[int, int]]:
    if len(text) <= LIMIT:
        return [(0, len(text))]
    spans = sorted({(s, e) for f in findings for s, e in f.spans if 0 <= s < e <= len(text)})
    late = [(s, e) for s, e in spans if e > LIMIT]
    # with evidence past the start, half the budget goes to it
    passages = [(0, LIMIT // 2 if late else LIMIT)]
    budget = LIMIT - passages[0][1]
    for s, e in late:
        last_start, last_end = passages[-1]
        if e <= last_end:
            continue
        start = max(s - _AROUND, last_end)
        end = min(e + _AROUND, len(text), start + _LONGEST, start + budget)
        if end <= start:
            break
        if start == last_end:
            passages[-1] = (last_start, end)
        else:
            passages.append((start, end))
        budget -= end - start
    return passages


def _masked(text: str, start: int, end: int, masked: Sequence[Finding]) -> str:
    """``text[start:end]`` with the ``masked`` spans that reach into it replaced by their labels."""
    shifted = []
    for f in masked:
        scope = f.redact_spans if f.redact_spans is not None else f.spans
        inside = tuple((max(s, start) - start, min(e, end) - start) for s, e in scope if s < end and e > start)
        if inside:
            shifted.append(f.model_copy(update={"spans": inside, "redact_spans": None}))
    return apply_redactions(text[start:end], shifted)
