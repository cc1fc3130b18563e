"""The words in structured content: what a model reads in a block that is not a plain text block."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

NOT_WORDS = frozenset({"type", "block_type", "id", "index", "mime_type", "source_type", "data", "base64", "bytes",
                       "signature", "cache_control"})
"""Block keys whose values are not words a model reads: block kinds, ids, and encoded payloads (images,
files: base64 is scanned where the checks decode it, not as text)."""

_MAX_DEPTH = 32


def words(value: Any, depth: int = 0) -> list[str]:
    """Every string a model would read in ``value`` (a content block, nested content, a JSON value)."""
    found: list[str] = []

    def read(word: str) -> str:
        found.append(word)
        return word

    _walk(value, depth, read)
    return found


def with_words(value: Any, replacement: Sequence[str]) -> Any:
    """``value`` with the strings :func:`words` reads in it replaced, in order, by ``replacement`` (one each);
    everything else as it was. Mappings come back as dicts, tuples as tuples."""
    given = iter(replacement)
    missing = object()

    def take(_word: str) -> str:
        taken = next(given, missing)
        if taken is missing:
            raise ValueError(f"{len(replacement)} replacements for more words")
        return str(taken)

    out = _walk(value, 0, take)
    if next(given, missing) is not missing:
        raise ValueError(f"{len(replacement)} replacements for fewer words")
    return out


def _walk(value: Any, depth: int, visit: Callable[[str], str]) -> Any:
    """``value`` rebuilt with ``visit(word)`` in the place of each word, in reading order: the one traversal that
    decides what counts as a word, for reading words and for putting redacted ones back."""
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, str):
        return visit(value) if value.strip() else value
    if isinstance(value, Mapping):
        # ``data`` is encoded bytes, except in a text source (an Anthropic plain-text document)
        plain = "text" in (value.get("type"), value.get("source_type")) or \
            str(value.get("media_type") or value.get("mime_type") or "").startswith("text/")
        return {k: _walk(v, depth + 1, visit) if k not in NOT_WORDS or (k == "data" and plain) else v
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        walked = [_walk(v, depth + 1, visit) for v in value]
        return tuple(walked) if isinstance(value, tuple) else walked
    return value


def split_words(redacted: str, original: Sequence[str]) -> list[str] | None:
    """``redacted`` (a redaction of ``"\\n".join(original)``) back in ``original``'s words, or None when a
    redaction took in a line break, so it may have run from one word into the next.

    A redaction puts a label without a line break in the place of each span, so when every line break is still
    there, none was inside a span, and each word keeps its own lines."""
    lines = redacted.split("\n")
    if len(lines) != sum(w.count("\n") + 1 for w in original):
        return None
    out: list[str] = []
    at = 0
    for word in original:
        taken = word.count("\n") + 1
        out.append("\n".join(lines[at:at + taken]))
        at += taken
    return out
