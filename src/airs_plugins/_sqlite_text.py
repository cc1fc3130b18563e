"""Text that UTF-8 cannot carry, on its way into SQLite files and JSON exports.

A Python ``str`` may hold lone surrogates: a file name a tool read with ``surrogateescape`` (what ``os.listdir``
gives for bytes that are not UTF-8), or a reviewer UI that cut an emoji in half (JSON's ``"\\ud83d"``). Hashes
and MACs here are over ``surrogatepass`` bytes, so such text is decided and hashed fine; binding it to SQLite or
writing it to a UTF-8 file raises ``UnicodeEncodeError``, after the tool ran or while an answer is resolved.
These helpers keep it whole instead.
"""

from __future__ import annotations

import json
from typing import Any


def encodable(text: str) -> bool:
    """``text`` can be written as UTF-8 (it holds no lone surrogate)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bound(value: Any) -> Any:
    """``value`` as SQLite can bind it: itself, or a text holding a lone surrogate as its ``surrogatepass`` UTF-8
    bytes (a BLOB, read back whole by :func:`unbound`). A BLOB never equals a TEXT in SQLite, and no text that
    binds as TEXT has those bytes, so two different texts never meet in one key."""
    if isinstance(value, str) and not encodable(value):
        return value.encode("utf-8", "surrogatepass")
    return value


def unbound(value: Any) -> Any:
    """A value read back from SQLite: the text :func:`bound` stored as bytes, else the value itself (bytes that
    no text gives stay bytes, for the reader to refuse as not its own)."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return value
    return value


def json_text(value: Any, **options: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **options)``, unless that text holds a lone surrogate: then with
    every non-ASCII character escaped, which JSON reads back as the very same value (so a hash over the parsed
    value still verifies)."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return text if encodable(text) else json.dumps(value, ensure_ascii=True, **options)
