"""Canonical JSON (sorted keys, no insignificant whitespace, UTF-8) and its digests.

The policy hash and the audit chain are both defined over this encoding (DESIGN §7). The encoders
are built once: ``json.dumps`` with any keyword builds a new ``JSONEncoder`` per call, and these run
several times per decision.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
from typing import Any

_STRICT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_LENIENT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_json(value: Any) -> bytes:
    return _STRICT.encode(value).encode("utf-8", "surrogatepass")


def canonical_args(args: Any) -> str:
    """Tool arguments as canonical JSON text; values JSON cannot encode are written as ``str(value)``."""
    return _LENIENT.encode(args)


def call_digest(name: str, canonical_args: str) -> str:
    """A short, stable identity of one tool call (name + canonical JSON of its arguments)."""
    return hashlib.sha256(f"{name}\x00{canonical_args}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


def args_digest(args: Any) -> str:
    """The identity of a set of arguments a decision was made on (32 hex digits)."""
    return hashlib.sha256(canonical_args(args or {}).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def sha256_hex(data: bytes, key: bytes | None = None) -> str:
    if key:
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


class _Ids:
    """Unique 32-hex-digit ids: a random 64-bit prefix per process and a counter.

    Correlation ids only need to be unique, not unpredictable; ``uuid4()`` reads the OS random source
    on every call, which is several times slower and runs on every decision. A forked child draws a
    new prefix, so parent and child never hand out the same id.
    """

    def __init__(self) -> None:
        self._reseed()
        if hasattr(os, "register_at_fork"):  # Unix only; elsewhere there is no fork to survive
            os.register_at_fork(after_in_child=self._reseed)

    def _reseed(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


new_id = _Ids().next
"""A fresh unique id (``itertools.count`` is atomic under the GIL, so threads never share one)."""
