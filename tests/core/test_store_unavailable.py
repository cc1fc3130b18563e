"""A store that stops answering (here: another process holds the write lock past the timeout) is a
defined outcome, not a stray ``sqlite3`` traceback: ``AuditError`` naming the file and the operation, and
nothing runs that could not be recorded."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from airs_plugins import AuditError
from airs_plugins._ledger import SQLiteLedger
from airs_plugins.audit import SQLiteRecorder


@contextmanager
def write_locked(path: Path) -> Iterator[None]:
    """Another connection holding the database's write lock (what a stuck writer does)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_ledger_write_lock_is_an_audit_error(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "ledger.db", timeout_s=0.05)
    assert ledger.claim("t", "c0", "lookup") is None
    with write_locked(ledger.path), pytest.raises(AuditError, match=r"ledger\.db unavailable \(claim 'c1'\)"):
        ledger.claim("t", "c1", "lookup")
    assert ledger.claim("t", "c1", "lookup") is None  # answers again once the lock is gone


def test_audit_write_lock_is_an_audit_error(tmp_path: Path) -> None:
    recorder = SQLiteRecorder(tmp_path / "audit.db", timeout_s=0.05)
    recorder.append("decision", {"i": 0})
    with write_locked(recorder.path), pytest.raises(AuditError, match="cannot append"):
        recorder.append("decision", {"i": 1})


def test_threads_opening_a_new_ledger_at_once_all_get_it(tmp_path: Path) -> None:
    """A step's parallel tools each read the ledger first: two threads opening the file at once both set WAL
    mode, and one used to fail with "database is locked" (about one run in twelve)."""
    import threading

    for i in range(40):
        ledger = SQLiteLedger(tmp_path / f"ledger-{i}.sqlite")
        start, errors = threading.Barrier(4), []

        def read(k: int, ledger: SQLiteLedger = ledger, start: threading.Barrier = start,
                 errors: list[Exception] = errors) -> None:
            start.wait()
            try:
                ledger.get("thread", f"call-{k}")
            except AuditError as exc:
                errors.append(exc)

        threads = [threading.Thread(target=read, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
