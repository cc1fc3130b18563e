"""Exactly-once tool execution: a durable record under (thread id, tool call id).

Before a guarded tool runs, the adapter *claims* the call. After it runs, the result is *completed*
into the ledger before it is returned. A replay of the same call (a node re-running after a resume,
a restarted process) finds the record and returns the recorded result instead of executing again.
A claim left ``running`` by a crash is never re-run blindly: the adapter reports that the outcome is
unknown (at-most-once, fail closed).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from ._errors import AuditError

State = Literal["running", "done"]


@dataclass(frozen=True)
class LedgerEntry:
    thread_id: str
    tool_call_id: str
    tool_name: str
    state: State
    content: str | None = None
    status: str = "success"
    at: float = 0.0
    extra: dict[str, Any] | None = None


@runtime_checkable
class ExecutionLedger(Protocol):
    def claim(self, thread_id: str, tool_call_id: str, tool_name: str) -> LedgerEntry | None:
        """Claim the call. Returns None when claimed now, else the existing entry."""

    def complete(self, thread_id: str, tool_call_id: str, content: str, status: str = "success",
                 extra: dict[str, Any] | None = None) -> None: ...

    def get(self, thread_id: str, tool_call_id: str) -> LedgerEntry | None: ...


class MemoryLedger:
    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], LedgerEntry] = {}
        self._lock = threading.Lock()

    def claim(self, thread_id: str, tool_call_id: str, tool_name: str) -> LedgerEntry | None:
        with self._lock:
            key = (thread_id, tool_call_id)
            if key in self._rows:
                return self._rows[key]
            self._rows[key] = LedgerEntry(thread_id, tool_call_id, tool_name, "running", at=time.time())
            return None

    def complete(self, thread_id: str, tool_call_id: str, content: str, status: str = "success",
                 extra: dict[str, Any] | None = None) -> None:
        with self._lock:
            old = self._rows.get((thread_id, tool_call_id))
            name = old.tool_name if old else ""
            self._rows[(thread_id, tool_call_id)] = LedgerEntry(
                thread_id, tool_call_id, name, "done", content, status, time.time(), extra)

    def get(self, thread_id: str, tool_call_id: str) -> LedgerEntry | None:
        return self._rows.get((thread_id, tool_call_id))

    def entries(self, thread_id: str) -> list[LedgerEntry]:
        """Every entry of a thread, oldest first (calls, and decisions kept while a human is asked)."""
        with self._lock:
            return sorted((e for (t, _c), e in self._rows.items() if t == thread_id), key=lambda e: e.at)

    def __len__(self) -> int:
        return len(self._rows)


class SQLiteLedger:
    """The ledger in a SQLite file, safe across threads and processes.

    A store that cannot be read or written (locked past ``timeout_s``, disk full, a broken file) raises
    :class:`AuditError` naming the file and the operation: the call is then neither claimed nor run, and a
    result that cannot be recorded fails the step instead of being returned unrecorded."""

    def __init__(self, path: str | os.PathLike[str], *, timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        self._timeout = timeout_s
        self._lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._local_pid = -1
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        with self._open_lock:  # two threads opening at once both set WAL mode, and one gets "database is locked"
            return self._open()

    def _open(self) -> sqlite3.Connection:
        if self._conn is None or self._local_pid != os.getpid():
            try:
                conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None,
                                       check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS tool_ledger (thread_id TEXT NOT NULL, tool_call_id TEXT NOT NULL,"
                    " tool_name TEXT NOT NULL, state TEXT NOT NULL, content TEXT, status TEXT, at REAL,"
                    " extra TEXT, PRIMARY KEY (thread_id, tool_call_id))")
            except sqlite3.Error as exc:
                msg = f"cannot open execution ledger {self.path}: {exc}"
                raise AuditError(msg) from exc
            self._conn, self._local_pid = conn, os.getpid()
        return self._conn

    def _run(self, what: str, sql: str, args: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            return self._db().execute(sql, args)
        except sqlite3.Error as exc:
            msg = f"execution ledger {self.path} unavailable ({what}): {exc}"
            raise AuditError(msg) from exc

    def claim(self, thread_id: str, tool_call_id: str, tool_name: str) -> LedgerEntry | None:
        with self._lock:
            cur = self._run(
                f"claim {tool_call_id!r}",
                "INSERT OR IGNORE INTO tool_ledger (thread_id, tool_call_id, tool_name, state, at) "
                "VALUES (?, ?, ?, 'running', ?)", (thread_id, tool_call_id, tool_name, time.time()))
            if cur.rowcount == 1:
                return None
        return self.get(thread_id, tool_call_id)

    def complete(self, thread_id: str, tool_call_id: str, content: str, status: str = "success",
                 extra: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._run(
                f"complete {tool_call_id!r}",
                "UPDATE tool_ledger SET state='done', content=?, status=?, at=?, extra=? "
                "WHERE thread_id=? AND tool_call_id=?",
                (content, status, time.time(), json.dumps(extra) if extra else None, thread_id, tool_call_id))

    def get(self, thread_id: str, tool_call_id: str) -> LedgerEntry | None:
        with self._lock:  # one connection serves every thread: a read shares it with the writes
            row = self._run(
                f"read {tool_call_id!r}",
                "SELECT tool_name, state, content, status, at, extra FROM tool_ledger "
                "WHERE thread_id=? AND tool_call_id=?", (thread_id, tool_call_id)).fetchone()
        if row is None:
            return None
        return LedgerEntry(thread_id, tool_call_id, row[0], row[1], row[2], row[3] or "success", row[4] or 0.0,
                           json.loads(row[5]) if row[5] else None)

    def entries(self, thread_id: str) -> list[LedgerEntry]:
        """Every entry of a thread, oldest first (calls, and decisions kept while a human is asked)."""
        with self._lock:
            rows = self._run(f"list thread {thread_id!r}",
                             "SELECT tool_call_id, tool_name, state, content, status, at, extra FROM tool_ledger "
                             "WHERE thread_id=? ORDER BY at", (thread_id,)).fetchall()
        return [LedgerEntry(thread_id, r[0], r[1], r[2], r[3], r[4] or "success", r[5] or 0.0,
                            json.loads(r[6]) if r[6] else None) for r in rows]


def open_ledger(ledger: ExecutionLedger | str | os.PathLike[str] | None) -> ExecutionLedger:
    """The ledger given, a SQLite file at a path (``Shield(ledger=...)`` or ``AIRS_LEDGER_PATH``), else memory.

    The memory default dies with the process: a run resumed after a restart from a checkpointer that
    persists (SqliteSaver, Postgres) finds no record of the calls that ran, and runs again a call whose
    result was waiting for a reviewer. Exactly-once across a restart needs a file."""
    if ledger is not None and not isinstance(ledger, (str, os.PathLike)):
        return ledger
    path = ledger if ledger is not None else os.environ.get("AIRS_LEDGER_PATH")
    return SQLiteLedger(path) if path else MemoryLedger()
