"""Canonical JSON (sorted keys, no insignificant whitespace, UTF-8) and its digests.

The policy hash and the audit chain are both defined over this encoding (DESIGN §7).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8", "surrogatepass")


def call_digest(name: str, canonical_args: str) -> str:
    """A short, stable identity of one tool call (name + canonical JSON of its arguments)."""
    return hashlib.sha256(f"{name}\x00{canonical_args}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


def sha256_hex(data: bytes, key: bytes | None = None) -> str:
    if key:
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()
