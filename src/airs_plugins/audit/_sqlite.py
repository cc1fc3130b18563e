"""SQLite flight recorder: WAL, one ``BEGIN IMMEDIATE`` transaction per append so that concurrent
writers (threads and processes) serialise on the database lock and never fork the chain."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from .._errors import AuditError
from .._sqlite_file import OpenedFile
from .._sqlite_text import bound, json_text
from ._chain import (
    GENESIS,
    AuditRecord,
    VerifyResult,
    audit_key,
    entry_hash,
    head_mac,
    make_entry,
    read_entry,
    verify_records,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    entry TEXT NOT NULL,
    kind TEXT NOT NULL,
    correlation_id TEXT,
    run_id TEXT,
    thread_id TEXT,
    ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_correlation ON audit(correlation_id);
CREATE INDEX IF NOT EXISTS audit_run ON audit(run_id);
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    count INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    mac TEXT
);
"""


class SQLiteRecorder:
    """Append-only, hash-chained audit trail in a SQLite file.

    An append that cannot be written raises :class:`AuditError` naming the file and the cause: locked past
    ``timeout_s``, a full disk, a read-only file, or a file deleted or replaced while open (the connection would
    go on writing into the file it had, and the records would be lost with it)."""

    def __init__(self, path: str | os.PathLike[str], *, key: bytes | str | None = None,
                 timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        self._key = audit_key(key)
        self._timeout = timeout_s
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._opened = OpenedFile()
        self._connect()

    @property
    def signing_key(self) -> bytes | None:
        """The key the trail's hashes are HMACs with (None: plain SHA-256); a Shield keys its ledger file with it."""
        return self._key

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={int(self._timeout * 1000)}")
            conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            msg = f"cannot open audit database {self.path}: {exc}"
            raise AuditError(msg) from exc
        self._conn, self._pid = conn, os.getpid()
        self._opened = OpenedFile.at(self.path)
        return conn

    def append(self, kind: str, body: Mapping[str, Any]) -> AuditRecord:
        with self._lock:
            conn = self._connect()
            gone = self._opened.moved_away()
            if gone is not None:
                msg = f"cannot append to audit database {self.path}: {gone}"
                raise AuditError(msg)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    row = conn.execute("SELECT count, last_hash FROM audit_head WHERE id = 1").fetchone()
                    count, prev = (row[0], row[1]) if row else (0, GENESIS)
                    seq = count + 1
                    entry = make_entry(seq, time.time(), kind, body, prev)
                    h = entry_hash(entry, self._key)
                    text = json_text(entry, sort_keys=True, separators=(",", ":"))
                    conn.execute(
                        "INSERT INTO audit (seq, hash, entry, kind, correlation_id, run_id, thread_id, ts) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (seq, h, text, *map(bound, (kind, body.get("correlation_id"), body.get("run_id"),
                                                    body.get("thread_id"))), entry["ts"]),
                    )
                    conn.execute(
                        "INSERT INTO audit_head (id, count, last_hash, mac) VALUES (1, ?, ?, ?) "
                        "ON CONFLICT(id) DO UPDATE SET count = excluded.count, "
                        "last_hash = excluded.last_hash, mac = excluded.mac",
                        (seq, h, head_mac(seq, h, self._key) if self._key else None),
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    # SQLite may have rolled back already (a full disk, an I/O error): then ROLLBACK fails, and
                    # its "no transaction is active" would hide the cause
                    if conn.in_transaction:
                        with suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                msg = f"cannot append to audit database {self.path}: {exc}"
                raise AuditError(msg) from exc
        return AuditRecord(seq, h, entry)

    def records(self, *, since: int = 0, limit: int | None = None) -> Iterator[AuditRecord]:
        conn = self._connect()
        q = "SELECT seq, hash, entry FROM audit WHERE seq > ? ORDER BY seq"
        args: tuple[Any, ...] = (since,)
        if limit is not None:
            q += " LIMIT ?"
            args += (limit,)
        for seq, h, text in conn.execute(q, args):
            yield AuditRecord(seq, h, json.loads(text))

    def tail(self, n: int = 10) -> list[AuditRecord]:
        conn = self._connect()
        rows = conn.execute("SELECT seq, hash, entry FROM audit ORDER BY seq DESC LIMIT ?", (n,)).fetchall()
        return [AuditRecord(s, h, json.loads(t)) for s, h, t in reversed(rows)]

    def verify(self) -> VerifyResult:
        return verify_sqlite(self.path, key=self._key)

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def __len__(self) -> int:
        row = self._connect().execute("SELECT count(*) FROM audit").fetchone()
        return int(row[0])


def verify_sqlite(path: str | os.PathLike[str], *, key: bytes | str | None = None) -> VerifyResult:
    p = Path(path)
    conn = _open_ro(p)
    try:
        # one read transaction: the head and the rows from the same snapshot, or a record a live recorder
        # appends between the two reads looks like rows added behind the head's back
        conn.execute("BEGIN")
        head_row = conn.execute("SELECT count, last_hash, mac FROM audit_head WHERE id = 1").fetchone()
        head = _head(head_row)
        rows = conn.execute("SELECT seq, hash, entry FROM audit ORDER BY rowid")
        if head is None:
            return VerifyResult(False, 0, GENESIS, 0, "head row is not (count, hash, mac): edited outside the "
                                "recorder")
        return verify_records(rows, key=audit_key(key), head=head)
    except sqlite3.Error as exc:
        msg = f"cannot read audit database {p}: {exc}"
        raise AuditError(msg) from exc
    finally:
        conn.close()


def read_trail(path: str | os.PathLike[str], *, newest: int | None = None) -> Iterator[AuditRecord]:
    """The records of the SQLite trail at ``path``, oldest first (the ``newest`` only, when given), read without
    writing to the file: no schema is added and its journal mode is left alone (what is read may be evidence).
    A damaged entry comes as ``{"damaged": <its text>}``, which no verification passes."""
    p = Path(path)
    conn = _open_ro(p)
    try:
        if newest is None:
            rows: Any = conn.execute("SELECT seq, hash, entry FROM audit ORDER BY seq")
        else:
            rows = reversed(conn.execute("SELECT seq, hash, entry FROM audit ORDER BY seq DESC LIMIT ?",
                                         (newest,)).fetchall())
        for seq, h, text in rows:
            entry = read_entry(text)
            yield AuditRecord(seq, h, entry if entry is not None else {"damaged": str(text)})
    except sqlite3.Error as exc:
        msg = f"cannot read audit database {p}: {exc}"
        raise AuditError(msg) from exc
    finally:
        conn.close()


def _open_ro(p: Path) -> sqlite3.Connection:
    """A read-only connection to the trail at ``p``, or an :class:`AuditError` saying why there is none."""
    if not p.is_file():
        msg = f"no audit database at {p}"
        raise AuditError(msg)
    try:
        return _connect_ro(p)
    except sqlite3.Error as exc:
        msg = f"cannot open audit database {p}: {exc}"
        raise AuditError(msg) from exc


def _connect_ro(p: Path) -> sqlite3.Connection:
    # as_uri() percent-encodes the path: raw, a '#' or '?' in it would end the path and open another file
    return sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def _head(row: tuple[Any, ...] | None) -> tuple[int, str, str | None] | None:
    """The head row as written by the recorder, or None when its columns hold something else."""
    if row is None:
        return 0, GENESIS, None
    count, last, mac = row
    if type(count) is not int or not isinstance(last, str) or not (mac is None or isinstance(mac, str)):
        return None
    return count, last, mac
