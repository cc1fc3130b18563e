"""In-memory flight recorder (the default when no audit path is given)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from ._chain import (
    GENESIS,
    AuditRecord,
    VerifyResult,
    audit_key,
    entry_hash,
    make_entry,
    verify_records,
)


class MemoryRecorder:
    """Hash-chained records in a list. ``verify_each=True`` re-verifies the chain on every append
    (used by tests so that a broken chain fails at the append that broke it)."""

    def __init__(self, *, key: bytes | str | None = None, verify_each: bool = False) -> None:
        self._key = audit_key(key)
        self._rows: list[AuditRecord] = []
        self._lock = threading.Lock()
        self._verify_each = verify_each

    def append(self, kind: str, body: Mapping[str, Any]) -> AuditRecord:
        with self._lock:
            prev = self._rows[-1].hash if self._rows else GENESIS
            entry = make_entry(len(self._rows) + 1, time.time(), kind, body, prev)
            rec = AuditRecord(entry["seq"], entry_hash(entry, self._key), entry)
            self._rows.append(rec)
        if self._verify_each:
            result = self.verify()
            if not result.ok:  # pragma: no cover - a bug in the chain code
                raise AssertionError(str(result))
        return rec

    def records(self, *, since: int = 0, limit: int | None = None) -> Iterator[AuditRecord]:
        rows = [r for r in self._rows if r.seq > since]
        yield from rows[:limit] if limit is not None else rows

    def tail(self, n: int = 10) -> list[AuditRecord]:
        return list(self._rows[-n:])

    def verify(self) -> VerifyResult:
        import json

        rows = [(r.seq, r.hash, json.dumps(r.entry)) for r in self._rows]
        return verify_records(rows, key=self._key)

    def close(self) -> None:
        return None

    def __len__(self) -> int:
        return len(self._rows)
