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
