"""In-memory flight recorder (the default when no audit path is given)."""

from __future__ import annotations

import json
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

# A record of a real decision holds about 1.3 KB (tracemalloc, Shield.default() deciding tool calls,
# tool results with one in ten flagged, and answers: 1.26 KB all allowed, 1.32 KB with the flags), so a
# full default recorder holds about 65 MB: some 16,000 tool calls at three records each.
DEFAULT_MAX_RECORDS = 50_000


class MemoryRecorder:
    """Hash-chained records in memory, the newest ``max_records`` of them (default 50,000: about 65 MB
    of real decision records when full; ``None`` keeps every record, and memory grows with each one).

    When the bound is passed the oldest record is dropped. Sequence numbers keep counting, and the
    ``anchor`` (seq and hash of the last dropped record) stays, so ``verify()`` still checks that the
    records kept chain on from it; its result says how many were dropped. ``len()`` is the records held
    now, ``dropped`` the records let go. A JSONL written from ``records()`` after a drop starts mid-chain:
    ``airs audit verify`` reports the missing start unless given the anchor (``--anchor SEQ:HASH``, or
    ``verify_jsonl(path, anchor=recorder.anchor)``). For a complete trail audit to a file (``audit=PATH``
    or ``AIRS_AUDIT_PATH``).

    ``verify_each=True`` re-verifies the chain on every append (used by tests so that a broken chain
    fails at the append that broke it)."""

    def __init__(self, *, key: bytes | str | None = None, verify_each: bool = False,
                 max_records: int | None = DEFAULT_MAX_RECORDS) -> None:
        if max_records is not None and max_records < 1:
            msg = f"max_records must be at least 1, or None to keep every record (got {max_records})"
            raise ValueError(msg)
        self._key = audit_key(key)
        self._max = max_records
        # Records held are self._rows[self._start:]. Dropped ones before _start are deleted in one slice
        # once there are max_records/64 of them: an append moves 64 pointers amortised, memory stays
        # within 2 % of the bound, and records(since=) still finds its start by arithmetic on seq.
        self._rows: list[AuditRecord] = []
        self._start = 0
        self._slack = max(1, (max_records or 0) // 64)
        self._anchor: tuple[int, str] = (0, GENESIS)
        self._lock = threading.Lock()
        self._verify_each = verify_each

    @property
    def signing_key(self) -> bytes | None:
        """The key the trail's hashes are HMACs with (None: plain SHA-256); a Shield keys its ledger file with it."""
        return self._key

    @property
    def max_records(self) -> int | None:
        return self._max

    @property
    def dropped(self) -> int:
        """How many of the oldest records were let go to stay within ``max_records``."""
        return self._anchor[0]

    @property
    def anchor(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last dropped record, the record the oldest one held chains to;
        ``(0, GENESIS)`` while nothing was dropped. Pass it as ``anchor=`` to ``verify_records`` or
        ``verify_jsonl`` to verify an export of what is held."""
        return self._anchor

    def append(self, kind: str, body: Mapping[str, Any]) -> AuditRecord:
        with self._lock:
            rows = self._rows
            prev = rows[-1].hash if len(rows) > self._start else self._anchor[1]
            seq = self._anchor[0] + len(rows) - self._start + 1
            entry = make_entry(seq, time.time(), kind, body, prev)
            rec = AuditRecord(entry["seq"], entry_hash(entry, self._key), entry)
            rows.append(rec)
            if self._max is not None and len(rows) - self._start > self._max:
                oldest = rows[self._start]
                self._anchor = (oldest.seq, oldest.hash)
                self._start += 1
                if self._start >= self._slack:
                    del rows[:self._start]
                    self._start = 0
        if self._verify_each:
            result = self.verify()
            if not result.ok:  # pragma: no cover - a bug in the chain code
                raise AssertionError(str(result))
        return rec

    def records(self, *, since: int = 0, limit: int | None = None) -> Iterator[AuditRecord]:
        with self._lock:
            # Held seqs run on without a gap from anchor seq + 1, so the first one after `since` is found
            # by arithmetic; the slice is taken under the lock because appends may delete a prefix.
            first = self._start + max(0, since - self._anchor[0])
            rows = self._rows[first:] if limit is None else self._rows[first:first + max(0, limit)]
        yield from rows

    def tail(self, n: int = 10) -> list[AuditRecord]:
        with self._lock:
            return self._rows[max(self._start, len(self._rows) - n):]

    def verify(self) -> VerifyResult:
        with self._lock:
            rows = self._rows[self._start:]
            anchor = self._anchor
        return verify_records(((r.seq, r.hash, json.dumps(r.entry)) for r in rows), key=self._key,
                              anchor=anchor)

    def close(self) -> None:
        return None

    def __len__(self) -> int:
        """The records held now (at most ``max_records``), not every record ever appended."""
        with self._lock:
            return len(self._rows) - self._start
