"""The hash chain shared by every recorder.

Each entry is ``{"seq", "ts", "kind", "prev", "body"}``; its hash is SHA-256 (or HMAC-SHA-256 with
``AIRS_AUDIT_KEY``) over the entry's canonical JSON. ``prev`` is the previous entry's hash, so an
edited, deleted, inserted or reordered row breaks the chain at that row. A head (count, last hash)
kept in the same transaction detects truncation of the newest rows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .._canonical import canonical_json, sha256_hex
from .._sqlite_text import json_text

GENESIS = "0" * 64


def audit_key(explicit: bytes | str | None = None) -> bytes | None:
    key = explicit if explicit is not None else os.environ.get("AIRS_AUDIT_KEY")
    if not key:
        return None
    return key.encode("utf-8") if isinstance(key, str) else key


def entry_hash(entry: Mapping[str, Any], key: bytes | None) -> str:
    return sha256_hex(canonical_json(dict(entry)), key)


def head_mac(count: int, last_hash: str, key: bytes | None) -> str:
    return sha256_hex(canonical_json({"count": count, "last": last_hash}), key)


def make_entry(seq: int, ts: float, kind: str, body: Mapping[str, Any], prev: str) -> dict[str, Any]:
    return {"seq": seq, "ts": round(ts, 6), "kind": kind, "prev": prev, "body": dict(body)}


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    hash: str
    entry: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.entry.get("kind", ""))

    @property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = self.entry.get("body", {})
        return body

    def to_json(self) -> str:
        # escaped when it holds text UTF-8 cannot carry, so that an export or ``audit tail --json`` can write it
        return json_text({"seq": self.seq, "hash": self.hash, "entry": self.entry}, sort_keys=True)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""
    # Records before the first one verified (a bounded in-memory trail drops its oldest); 0 for a whole
    # trail. ``count`` is only the records verified.
    dropped: int = 0

    def __str__(self) -> str:
        # A partial trail must never read like a complete one.
        partial = (f"; only the newest: the {self.dropped} older records were dropped and are not in this "
                   "trail") if self.dropped else ""
        if self.ok:
            return f"OK: {self.count} records, head {self.head_hash}{partial}"
        return f"TAMPERED at record {self.first_bad_seq}: {self.problem}{partial}"


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON and have no canonical form: a record holding one was not written here
    raise ValueError(name)


def read_entry(entry_json: Any) -> dict[str, Any] | None:
    """A stored entry as a dict, or None when it is not one (a damaged or hand-made record)."""
    try:
        entry = json.loads(entry_json, parse_constant=_no_constant)
    except (TypeError, ValueError, RecursionError):
        return None
    return entry if isinstance(entry, dict) else None


def verify_records(
    rows: Iterable[tuple[int, str, str]],
    *,
    key: bytes | None,
    head: tuple[int, str, str | None] | None = None,
    anchor: tuple[int, str] = (0, GENESIS),
) -> VerifyResult:
    """Walk ``(seq, hash, entry_json)`` rows in stored order and report the first bad one.

    ``anchor`` is the ``(seq, hash)`` of the record just before the first row: the genesis for a whole
    trail, the last dropped record for one whose oldest records were dropped (the first row must follow
    it, so removing that row is still caught)."""
    dropped, prev = anchor
    expected = dropped + 1
    count = 0
    for seq, stored_hash, entry_json in rows:
        entry = read_entry(entry_json)
        if entry is None:
            return VerifyResult(False, count, prev, seq, "entry is not a valid JSON object", dropped)
        if seq != expected or entry.get("seq") != seq:
            what = "missing or inserted record" if seq != expected else "sequence number edited"
            return VerifyResult(False, count, prev, expected if seq != expected else seq,
                                f"{what} (expected seq {expected}, found {seq})", dropped)
        if entry.get("prev") != prev:
            return VerifyResult(False, count, prev, seq, "chain broken: prev hash does not match "
                                "the previous record (deleted, inserted or reordered row)", dropped)
        if entry_hash(entry, key) != stored_hash:
            return VerifyResult(False, count, prev, seq, "content edited: hash does not match", dropped)
        prev = stored_hash
        expected += 1
        count += 1
    if head is not None:
        total = dropped + count
        h_count, h_last, h_mac = head
        if h_count != total or h_last != prev:
            return VerifyResult(False, count, prev, total + 1 if h_count > total else h_count,
                                f"head says {h_count} records ending {h_last[:12]}…, found {total} "
                                f"ending {prev[:12]}… (truncated or appended outside the recorder)", dropped)
        if key is not None and h_mac is None and total:
            # only the key holder signs the head: without this, a forger with write access truncates the
            # newest rows and clears the MAC, and the shorter chain, still validly keyed, verifies
            return VerifyResult(False, count, prev, total, "head is not signed, but the trail is keyed "
                                "(truncated or rewritten outside the recorder)", dropped)
        if h_mac is not None and h_mac != head_mac(h_count, h_last, key):
            return VerifyResult(False, count, prev, total, "head signature does not match", dropped)
    return VerifyResult(True, count, prev, dropped=dropped)
