"""The injected segment around injection evidence in untrusted content: what redaction must remove.

An injection in a tool result has a shape: a trigger the detector recognises ("This is an important
message from me…", "Before you solve the task…") followed by the payload ("solve the captcha at…",
"send the file to…"), all inside the one field the attacker could write to. Replacing only the
trigger phrases leaves the payload in front of the model, which is still an instruction. So the
redaction scope runs from the start of the trigger's sentence (taking an opening wrapper such as
``<INFORMATION>`` or ``<!--`` with it) to the end of the field: a closing wrapper, the end of the
quoted string the evidence sits in, a separator line, the start of the next key in a record, a
blank-line gap, or at most ``MAX_TAIL`` characters past the last evidence. Everything outside stays,
so the rest of the tool result (what the user's task needs) survives.

Every pattern here is RE2 (linear time) and every search is bounded by a window, so the cost is a
few microseconds per finding whatever the input.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._regex import compile_re2

MAX_TAIL = 800
"""The payload after the last evidence is rarely longer; past this it is the host's own content."""
MAX_HEAD = 240
"""How far back the start of the trigger's sentence (or an opening wrapper) is looked for."""

_CLOSE_WRAPPER = compile_re2(r"</[A-Za-z][\w.-]{0,30}>|-->|\[/[A-Za-z]\w{0,30}\]", case_sensitive=True)
_FIELD_END = compile_re2(
    # a separator line, or the next key of a YAML / e-mail header style record (keys have no spaces,
    # so "Solve the captcha at this page: ..." inside the payload is not one)
    r"\n[ \t]*(?:[-=_*#~]{3,}[ \t]*(?:\n|$)|(?:- )?[A-Za-z_][\w-]{0,30}:[ \t\n])"
    # the quote that closes a JSON, Python-repr or YAML string: followed by , } ] or a new key
    r"|[^\\]['\"][ \t]*(?:[,}\]]|\n[ \t]*(?:- |[\w-]+:)|$)",
    case_sensitive=True,
)
# a sentence end, a line break, a quote that opens a string value (not an apostrophe: "Emma's"), a tag's end
_SENTENCE_START = compile_re2(r"[.!?;][ \t]+|\n|[:\[{,(=][ \t]*['\"][ \t]*|[>\]][ \t]*", case_sensitive=True)
_OPEN_WRAPPER = compile_re2(
    r"(?:<[A-Za-z][\w.-]{0,30}>|<!--|#{2,}[ \t]*\(?[A-Za-z_ ]{1,30}\)?|\[[A-Za-z][\w ]{0,30}\])\s*$",
    case_sensitive=True,
)


def _start(text: str, s: int) -> int:
    """The start of the sentence the evidence opens in, with an opening wrapper just before it."""
    # every search runs on a bounded slice: the RE2 wrapper converts its whole subject per call
    lo = max(0, s - MAX_HEAD)
    window = text[lo:s]
    start = 0 if lo == 0 else s  # no boundary in reach: do not cut into the host's sentence
    for m in _SENTENCE_START.finditer(window):
        start = lo + m.end()
    head = max(0, start - 48)
    opener = _OPEN_WRAPPER.search(text[head:start])  # RE2's ``$`` ignores ``endpos``: slice instead
    return head + opener.start() if opener is not None else start


def _end(text: str, e: int) -> int:
    """Where the field holding the evidence ends: first boundary after it, at most ``MAX_TAIL`` on."""
    lo = max(0, e - 1)
    window = text[lo:min(len(text), e + MAX_TAIL)]
    end = len(window)
    close = _CLOSE_WRAPPER.search(window, e - lo)
    if close is not None:
        end = close.end()
    field = _FIELD_END.search(window[:end], e - lo - 1 if e > lo else 0) if end else None
    if field is not None:
        # a closing quote stays with its record, as does the newline before a separator or key
        cut = field.start() if window[field.start()] == "\n" else field.start() + 1
        end = min(end, max(e - lo, cut))
    return lo + end


def injected_segments(text: str, evidence: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Segments of ``text`` covering each run of ``evidence`` spans and the payload that follows it."""
    spans = sorted((s, e) for s, e in evidence if 0 <= s < e <= len(text))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and s <= out[-1][1]:
            ps, pe = out[-1]
            out[-1] = (ps, max(pe, _end(text, max(e, s))))
        else:
            out.append((_start(text, s), _end(text, e)))
    merged: list[tuple[int, int]] = []
    for s, e in out:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged
