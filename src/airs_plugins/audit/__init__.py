"""The flight recorder: an append-only, hash-chained audit trail of every decision.

SQLite by default when a path is given (``audit=PATH`` or ``AIRS_AUDIT_PATH``), otherwise in memory,
keeping the newest 50,000 records (``MemoryRecorder``). ``airs audit verify PATH`` checks the chain and
prints the head hash for anchoring.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .._errors import AuditError
from ._chain import (
    GENESIS,
    AuditRecord,
    VerifyResult,
    audit_key,
    entry_hash,
    head_mac,
    read_entry,
    verify_records,
)
from ._memory import DEFAULT_MAX_RECORDS, MemoryRecorder
from ._sqlite import SQLiteRecorder, verify_sqlite


@runtime_checkable
class FlightRecorder(Protocol):
    def append(self, kind: str, body: Mapping[str, Any]) -> AuditRecord: ...

    def records(self, *, since: int = 0, limit: int | None = None) -> Iterator[AuditRecord]: ...

    def tail(self, n: int = 10) -> list[AuditRecord]: ...

    def verify(self) -> VerifyResult: ...

    def close(self) -> None: ...


def open_recorder(audit: FlightRecorder | str | os.PathLike[str] | None = None) -> FlightRecorder:
    """A recorder from an object, a path, ``AIRS_AUDIT_PATH``, or else in memory."""
    if audit is not None and not isinstance(audit, (str, os.PathLike)):
        return audit
    path = audit if audit is not None else os.environ.get("AIRS_AUDIT_PATH")
    if path:
        return SQLiteRecorder(path)
    return MemoryRecorder()


def verify(path: str | os.PathLike[str], *, key: bytes | str | None = None,
           anchor: tuple[int, str] | None = None, head: tuple[int, str] | None = None) -> VerifyResult:
    """Verify a SQLite audit file or a JSONL export (``anchor``: where an export of a bounded in-memory
    trail starts, its ``MemoryRecorder.anchor``; ``head``: the record an export must end with; JSONL only)."""
    p = Path(path)
    if p.suffix in (".jsonl", ".ndjson"):
        return verify_jsonl(p, key=key, anchor=anchor or (0, GENESIS), head=head)
    if anchor is not None or head is not None:
        msg = ("an anchor or a head applies to a JSONL export only: a SQLite trail starts at its first record "
               "and keeps its own head")
        raise AuditError(msg)
    return verify_sqlite(p, key=key)


def verify_jsonl(path: str | os.PathLike[str], *, key: bytes | str | None = None,
                 anchor: tuple[int, str] = (0, GENESIS), head: tuple[int, str] | None = None) -> VerifyResult:
    """Verify a JSONL export. A file that starts mid-chain (written from a ``MemoryRecorder`` that dropped
    its oldest records) fails as missing its start unless given that recorder's ``anchor``. An export has no
    head of its own, so dropping its newest lines leaves a valid chain: given the ``head`` noted when it was
    made (``(seq, hash)`` of its last record, which ``airs audit export`` prints), a shorter or longer file
    fails."""
    rows: list[tuple[int, str, str]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                rows.append(_jsonl_row(line, rows[-1][0] if rows else anchor[0]))
    k = audit_key(key)
    # the caller vouches for the head: signed here, so a keyed check does not take it for a forged one
    signed = None if head is None else (head[0], head[1], head_mac(head[0], head[1], k) if k else None)
    return verify_records(rows, key=k, anchor=anchor, head=signed)


def _jsonl_row(line: str, previous_seq: int) -> tuple[int, str, str]:
    """One export line as ``(seq, hash, entry_json)``. A line that is not a record becomes a row whose entry
    does not parse, so verification reports it as the next record, tampered, instead of raising."""
    obj = read_entry(line)
    if obj is None or not isinstance(obj.get("seq"), int) or not isinstance(obj.get("hash"), str):
        return previous_seq + 1, "", ""
    return obj["seq"], obj["hash"], json.dumps(obj.get("entry"))


__all__ = [
    "DEFAULT_MAX_RECORDS",
    "GENESIS",
    "AuditRecord",
    "FlightRecorder",
    "MemoryRecorder",
    "SQLiteRecorder",
    "VerifyResult",
    "entry_hash",
    "open_recorder",
    "verify",
    "verify_jsonl",
    "verify_sqlite",
]
