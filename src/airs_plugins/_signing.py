"""HMAC signing of persisted framework contexts that must be unpickled (DESIGN §7).

A LlamaIndex agent context only keeps its memory under ``JsonPickleSerializer``, and unpickling a
blob runs code chosen by whoever wrote it. So the blob is wrapped in a signed envelope and refused
unless the HMAC-SHA256 over (purpose, payload) verifies with the key — checked *before* anything is
deserialized. The key comes from an argument or ``AIRS_CONTEXT_KEY``; there is no default key,
because a key shipped with the code would let anyone forge a blob.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from ._errors import SignatureError

ENV_KEY = "AIRS_CONTEXT_KEY"
_ALG = "HMAC-SHA256"
_VERSION = 1
_MIN_KEY_BYTES = 16


def context_key(key: bytes | str | None = None) -> bytes:
    """The signing key: the argument, else ``AIRS_CONTEXT_KEY``; refuse short or missing keys."""
    raw: bytes | str | None = key if key is not None else os.environ.get(ENV_KEY)
    if raw is None or raw in ("", b""):
        msg = (f"no key to sign or verify a persisted context. To resolve this, either: (1) pass key=... "
               f"or (2) set the {ENV_KEY} environment variable to a secret of at least {_MIN_KEY_BYTES} bytes")
        raise SignatureError(msg)
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    if len(data) < _MIN_KEY_BYTES:
        msg = f"the context signing key is {len(data)} bytes; use at least {_MIN_KEY_BYTES}"
        raise SignatureError(msg)
    return data


def _mac(key: bytes, purpose: str, payload: str) -> str:
    # the purpose is bound into the MAC so a blob signed for one use cannot be replayed as another
    msg = purpose.encode("utf-8") + b"\x00" + payload.encode("utf-8")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A short, non-secret fingerprint of the key, so an operator can tell which key signed a blob."""
    return hashlib.sha256(b"airs-key-id\x00" + key).hexdigest()[:12]


def sign(payload: str, *, key: bytes | str | None = None, purpose: str) -> str:
    """Wrap ``payload`` (text) in a signed JSON envelope."""
    k = context_key(key)
    envelope = {"airs_signed": _VERSION, "alg": _ALG, "purpose": purpose, "kid": key_id(k),
                "sig": _mac(k, purpose, payload), "payload": payload}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))


def unverified_payload(blob: str) -> str | None:
    """The payload of an envelope *without* checking its signature (None when ``blob`` is not one): only for an
    envelope that something verified already vouches for (one carried inside a verified envelope)."""
    try:
        envelope = json.loads(blob)
    except ValueError:
        return None
    payload = envelope.get("payload") if isinstance(envelope, dict) else None
    return payload if isinstance(payload, str) else None


def verify(blob: str | bytes, *, key: bytes | str | None = None, purpose: str) -> str:
    """Return the payload of a signed envelope, or raise :class:`SignatureError` (nothing is parsed
    beyond the envelope itself until the signature has verified)."""
    k = context_key(key)
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    try:
        envelope: Any = json.loads(text)
    except ValueError as exc:
        msg = "not a signed airs-plugins blob (not JSON); refusing to load it"
        raise SignatureError(msg) from exc
    if not isinstance(envelope, dict) or envelope.get("airs_signed") != _VERSION:
        msg = "not a signed airs-plugins blob (no signature envelope); refusing to load it"
        raise SignatureError(msg)
    payload, sig = envelope.get("payload"), envelope.get("sig")
    if envelope.get("alg") != _ALG or not isinstance(payload, str) or not isinstance(sig, str):
        msg = "malformed signature envelope; refusing to load it"
        raise SignatureError(msg)
    if envelope.get("purpose") != purpose:
        msg = f"blob was signed for {envelope.get('purpose')!r}, not {purpose!r}; refusing to load it"
        raise SignatureError(msg)
    if not hmac.compare_digest(_mac(k, purpose, payload), sig):
        msg = (f"signature check failed (signed with key {envelope.get('kid')!r}, verifying with "
               f"{key_id(k)!r}): the blob was modified or the key differs; refusing to load it")
        raise SignatureError(msg)
    return payload
