"""The words in structured content: what a model reads in a block that is not a plain text block."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NOT_WORDS = frozenset({"type", "block_type", "id", "index", "mime_type", "source_type", "data", "base64", "bytes",
                       "signature", "cache_control"})
"""Block keys whose values are not words a model reads: block kinds, ids, and encoded payloads (images,
files: base64 is scanned where the checks decode it, not as text)."""


def words(value: Any, depth: int = 0) -> list[str]:
    """Every string a model would read in ``value`` (a content block, nested content, a JSON value)."""
    if depth > 32:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, Mapping):
        # ``data`` is encoded bytes, except in a text source (an Anthropic plain-text document)
        plain = "text" in (value.get("type"), value.get("source_type")) or \
            str(value.get("media_type") or value.get("mime_type") or "").startswith("text/")
        return [w for k, v in value.items() if k not in NOT_WORDS or (k == "data" and plain)
                for w in words(v, depth + 1)]
    if isinstance(value, (list, tuple)):
        return [w for v in value for w in words(v, depth + 1)]
    return []
