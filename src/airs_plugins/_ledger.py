"""Exactly-once tool execution: a durable record under (thread id, tool call id).

Before a guarded tool runs, the adapter *claims* the call. After it runs, the result is *completed*
into the ledger before it is returned. A replay of the same call (a node re-running after a resume,
a restarted process) finds the record and returns the recorded result instead of executing again.
A claim left ``running`` by a crash is never re-run blindly: the adapter reports that the outcome is
unknown (at-most-once, fail closed).

A file ledger is keyed like the audit trail (``key=``, else ``AIRS_AUDIT_KEY``): each entry then carries an
HMAC over all its fields, and an entry that does not verify is refused. Without it, whoever can write the
file decides what a replay returns and how a reviewer's answer resolves.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from ._canonical import canonical_json, sha256_hex
from ._errors import AuditError
from ._sqlite_file import OpenedFile
from ._sqlite_text import bound, unbound
from .audit._chain import audit_key

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


DECIDED = "decided"
"""Ledger status of a decision kept before ``interrupt()``: the re-run after the answer resolves it."""
INTERRUPTED = "interrupted"
"""Ledger status of a call whose tool raised a LangGraph interrupt: it has not finished, re-run it."""
REVIEW = "review"
"""Ledger status (and ``extra`` key, holding the request) of a result that ran and waits for a reviewer."""
WAITING = "waiting"
"""Ledger status of a LlamaIndex tool that paused on a workflow event: its step replays when it comes."""
PAUSED_STATUSES = frozenset({DECIDED, INTERRUPTED, REVIEW, WAITING})
"""What the run resumes from after a human's answer or an event: :class:`MemoryLedger` keeps their threads."""


def _pins(entry: LedgerEntry) -> bool:
    """The entry is needed when its thread resumes: a call under way, or something paused."""
    return (entry.state == "running" or entry.status in PAUSED_STATUSES
            or bool(entry.extra and REVIEW in entry.extra))


class MemoryLedger:
    """The ledger in process memory (the default): gone with the process, and bounded.

    Only the ``max_threads`` most recently used threads are kept, so that a long-running process on
    defaults does not grow without end (every call's result is held). A thread beyond them is forgotten
    the way a restart forgets all of them: resumed, its calls that ran would run again. So no thread used
    in the last ``min_idle_s`` (an hour by default) is forgotten, whatever the count: a pause the ledger
    cannot see (an ``interrupt()`` of your own in a ``ToolNode`` beside guarded tools) is covered for that
    long. A thread that waits for a human or an event through AIRS (see :data:`PAUSED_STATUSES`), or has
    a call under way, is kept until idle for ``paused_keep_s`` (7 days). Both may take the count above
    ``max_threads``. Exactly-once across restarts and longer pauses needs a file:
    ``Shield(ledger=path)``. ``max_threads=None`` keeps everything."""

    DEFAULT_MAX_THREADS = 10_000
    _SCAN = 64
    """Threads looked at per insertion when the oldest are pinned: bounds the cost of an insertion."""

    def __init__(self, *, max_threads: int | None = DEFAULT_MAX_THREADS, min_idle_s: float = 3_600,
                 paused_keep_s: float = 7 * 86_400) -> None:
        if max_threads is not None and max_threads < 1:
            raise ValueError(f"max_threads must be at least 1 (or None for no bound), not {max_threads}")
        self.max_threads = max_threads
        self.min_idle_s = min_idle_s
        self.paused_keep_s = max(paused_keep_s, min_idle_s)
        self._threads: OrderedDict[str, dict[str, LedgerEntry]] = OrderedDict()
        self._pinned: dict[str, int] = {}
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self.forgotten = 0
        """Threads dropped to stay within ``max_threads``."""

    def claim(self, thread_id: str, tool_call_id: str, tool_name: str) -> LedgerEntry | None:
        with self._lock:
            rows = self._thread(thread_id)
            if tool_call_id in rows:
                return rows[tool_call_id]
            self._put(thread_id, rows, LedgerEntry(thread_id, tool_call_id, tool_name, "running", at=time.time()))
            return None

    def complete(self, thread_id: str, tool_call_id: str, content: str, status: str = "success",
                 extra: dict[str, Any] | None = None) -> None:
        with self._lock:
            rows = self._thread(thread_id)
            old = rows.get(tool_call_id)
            self._put(thread_id, rows, LedgerEntry(thread_id, tool_call_id, old.tool_name if old else "", "done",
                                                   content, status, time.time(), extra))

    def get(self, thread_id: str, tool_call_id: str) -> LedgerEntry | None:
        with self._lock:
            rows = self._threads.get(thread_id)
            if rows is None:
                return None
            self._touch(thread_id)
            return rows.get(tool_call_id)

    def entries(self, thread_id: str) -> list[LedgerEntry]:
        """Every entry of a thread, oldest first (calls, and decisions kept while a human is asked)."""
        with self._lock:
            return sorted(self._threads.get(thread_id, {}).values(), key=lambda e: e.at)

    def __len__(self) -> int:
        with self._lock:
            return sum(map(len, self._threads.values()))

    @property
    def threads(self) -> int:
        return len(self._threads)

    def _touch(self, thread_id: str) -> None:
        self._threads.move_to_end(thread_id)
        self._seen[thread_id] = time.monotonic()

    def _thread(self, thread_id: str) -> dict[str, LedgerEntry]:
        rows = self._threads.get(thread_id)
        if rows is None:
            rows = self._threads[thread_id] = {}
            self._pinned[thread_id] = 0
        self._touch(thread_id)
        return rows

    def _put(self, thread_id: str, rows: dict[str, LedgerEntry], entry: LedgerEntry) -> None:
        old = rows.get(entry.tool_call_id)
        rows[entry.tool_call_id] = entry
        self._pinned[thread_id] += _pins(entry) - (old is not None and _pins(old))
        if self.max_threads is not None and len(self._threads) > self.max_threads:
            self._forget(keep=thread_id)

    def _forget(self, keep: str) -> None:
        """Drop the least recently used threads that nothing waits on, down to ``max_threads``."""
        assert self.max_threads is not None
        now = time.monotonic()
        passed: list[str] = []
        for thread_id in list(islice(self._threads, self._SCAN)):
            if len(self._threads) <= self.max_threads:
                break
            if thread_id == keep:
                continue
            idle = now - self._seen[thread_id]
            if self._pinned[thread_id] and idle < self.paused_keep_s:
                passed.append(thread_id)
                continue
            if idle < self.min_idle_s:
                break  # the threads after it were used later still
            del self._threads[thread_id], self._pinned[thread_id], self._seen[thread_id]
            self.forgotten += 1
        for thread_id in passed:  # looked at next after the others, not at every insertion
            self._threads.move_to_end(thread_id)


_COLUMNS = "tool_name, state, content, status, at, extra, mac"
"""What a read takes of a row (after its thread and call ids): every field the MAC covers, and the MAC."""


def _entry_mac(key: bytes, thread_id: str, tool_call_id: str, row: tuple[Any, ...]) -> str:
    """The HMAC of one ledger row: its ids and the stored ``tool_name … extra`` values, as stored."""
    return sha256_hex(canonical_json(["airs-ledger-v1", thread_id, tool_call_id, *row[:6]]), key)


class SQLiteLedger:
    """The ledger in a SQLite file, safe across threads and processes.

    A store that cannot be read or written (locked past ``timeout_s``, disk full, a broken file, a file deleted or
    replaced while open: what is written to it then would be lost) raises
    :class:`AuditError` naming the file and the operation: the call is then neither claimed nor run, and a
    result that cannot be recorded fails the step instead of being returned unrecorded.

    With a key (``key=``, else ``AIRS_AUDIT_KEY``, the audit trail's) every entry is written with an HMAC of
    all its fields, and one read back without a valid HMAC raises :class:`AuditError` the same way: an entry
    forged or edited by someone who can write the file (a replayed result the tool never returned, a
    reviewer's answer resolved as an approval) is refused, never used. Entries written before the ledger was
    keyed have none: sign them once with :meth:`sign_unsigned` (``airs ledger sign``) on a file you trust as
    it stands. What the HMAC cannot show is an entry deleted whole: that call runs again, as with a fresh
    ledger."""

    def __init__(self, path: str | os.PathLike[str], *, timeout_s: float = 60.0,
                 key: bytes | str | None = None) -> None:
        self.path = Path(path)
        self._timeout = timeout_s
        self._key = audit_key(key)
        self._lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._local_pid = -1
        self._conn: sqlite3.Connection | None = None
        self._opened = OpenedFile()

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
                    " extra TEXT, mac TEXT, PRIMARY KEY (thread_id, tool_call_id))")
                _add_mac_column(conn)
            except sqlite3.Error as exc:
                msg = f"cannot open execution ledger {self.path}: {exc}"
                raise AuditError(msg) from exc
            self._conn, self._local_pid = conn, os.getpid()
            self._opened = OpenedFile.at(self.path)
        return self._conn

    def _run(self, what: str, sql: str, args: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            conn = self._db()
            gone = self._opened.moved_away()
            if gone is not None:  # a claim written there would be lost, and the call run again after a restart
                msg = f"execution ledger {self.path} unavailable ({what}): {gone}"
                raise AuditError(msg)
            return conn.execute(sql, tuple(map(bound, args)))
        except sqlite3.Error as exc:
            msg = f"execution ledger {self.path} unavailable ({what}): {exc}"
            raise AuditError(msg) from exc

    def claim(self, thread_id: str, tool_call_id: str, tool_name: str) -> LedgerEntry | None:
        at = time.time()
        mac = self._mac(thread_id, tool_call_id, (tool_name, "running", None, None, at, None))
        with self._lock:
            cur = self._run(
                f"claim {tool_call_id!r}",
                "INSERT OR IGNORE INTO tool_ledger (thread_id, tool_call_id, tool_name, state, at, mac) "
                "VALUES (?, ?, ?, 'running', ?, ?)", (thread_id, tool_call_id, tool_name, at, mac))
            if cur.rowcount == 1:
                return None
        return self.get(thread_id, tool_call_id)

    def complete(self, thread_id: str, tool_call_id: str, content: str, status: str = "success",
                 extra: dict[str, Any] | None = None) -> None:
        what = f"complete {tool_call_id!r}"
        done = ("done", content, status, time.time(), json.dumps(extra) if extra else None)
        update = ("UPDATE tool_ledger SET state=?, content=?, status=?, at=?, extra=?, mac=? "
                  "WHERE thread_id=? AND tool_call_id=?")
        with self._lock:
            if self._key is None:
                self._run(what, update, (*done, None, thread_id, tool_call_id))
                return
            # the MAC covers the tool name the claim wrote: read it and write the entry in one transaction
            self._run(what, "BEGIN IMMEDIATE", ())
            try:
                row = self._run(what, "SELECT tool_name FROM tool_ledger WHERE thread_id=? AND tool_call_id=?",
                                (thread_id, tool_call_id)).fetchone()
                if row is not None:
                    mac = self._mac(thread_id, tool_call_id, (unbound(row[0]), *done))
                    self._run(what, update, (*done, mac, thread_id, tool_call_id))
                self._run(what, "COMMIT", ())
            except BaseException:
                with contextlib.suppress(AuditError):  # the error that stopped the write is the one to see
                    self._run(what, "ROLLBACK", ())
                raise

    def get(self, thread_id: str, tool_call_id: str) -> LedgerEntry | None:
        with self._lock:  # one connection serves every thread: a read shares it with the writes
            row = self._run(
                f"read {tool_call_id!r}",
                f"SELECT {_COLUMNS} FROM tool_ledger WHERE thread_id=? AND tool_call_id=?",
                (thread_id, tool_call_id)).fetchone()
        return None if row is None else self._entry(thread_id, tool_call_id, _texts(row))

    def entries(self, thread_id: str) -> list[LedgerEntry]:
        """Every entry of a thread, oldest first (calls, and decisions kept while a human is asked)."""
        with self._lock:
            return self._entries(thread_id)

    def _entries(self, thread_id: str) -> list[LedgerEntry]:
        rows = self._run(f"list thread {thread_id!r}",
                         f"SELECT tool_call_id, {_COLUMNS} FROM tool_ledger WHERE thread_id=? ORDER BY at",
                         (thread_id,)).fetchall()
        return [self._entry(thread_id, r[0], r[1:]) for r in map(_texts, rows)]

    def _entry(self, thread_id: str, tool_call_id: str, row: tuple[Any, ...]) -> LedgerEntry:
        """The entry a row (``_COLUMNS``) holds, once its HMAC verifies (when the ledger is keyed)."""
        if self._key is not None:
            self._check(thread_id, tool_call_id, row)
        return LedgerEntry(thread_id, tool_call_id, row[0], row[1], row[2], row[3] or "success", row[4] or 0.0,
                           self._extra(row[5], tool_call_id))

    def _mac(self, thread_id: str, tool_call_id: str, row: tuple[Any, ...]) -> str | None:
        return None if self._key is None else _entry_mac(self._key, thread_id, tool_call_id, row)

    def _check(self, thread_id: str, tool_call_id: str, row: tuple[Any, ...]) -> None:
        stored = row[6]
        try:
            expected = self._mac(thread_id, tool_call_id, row) or ""
        except (TypeError, ValueError):  # a value the ledger never writes (a blob that is no text, NaN)
            expected = ""
        if isinstance(stored, str) and expected and hmac.compare_digest(stored, expected):
            return
        why = ("it has no signature (forged, or written before the ledger was keyed: sign such a file once with "
               "`airs ledger sign`)" if stored is None else
               "its signature does not match (changed outside airs-plugins, or written with another key)")
        msg = f"execution ledger {self.path}: the entry {tool_call_id!r} of thread {thread_id!r} is refused: {why}"
        raise AuditError(msg)

    def sign_unsigned(self) -> int:
        """Sign every entry that has no HMAC (written before the ledger was keyed); returns how many.

        Run once when turning the key on for a file that is in use, and only on a file you trust as it stands:
        whatever an unsigned entry says is vouched for from then on."""
        if self._key is None:
            msg = f"no key to sign execution ledger {self.path} with: pass key=... or set AIRS_AUDIT_KEY"
            raise AuditError(msg)
        signed = 0
        with self._lock:
            self._run("begin signing", "BEGIN IMMEDIATE", ())
            try:
                rows = self._run("list unsigned entries",
                                 f"SELECT thread_id, tool_call_id, {_COLUMNS} FROM tool_ledger WHERE mac IS NULL",
                                 ()).fetchall()
                for r in map(_texts, rows):
                    signed += self._run(f"sign {r[1]!r}",
                                        "UPDATE tool_ledger SET mac=? WHERE thread_id=? AND tool_call_id=?",
                                        (self._mac(r[0], r[1], r[2:]), r[0], r[1])).rowcount
                self._run("commit signing", "COMMIT", ())
            except BaseException:
                with contextlib.suppress(AuditError):
                    self._run("roll back signing", "ROLLBACK", ())
                raise
        return signed

    def _extra(self, raw: str | None, tool_call_id: str) -> dict[str, Any] | None:
        if not raw:
            return None
        try:
            extra = json.loads(raw)
        except ValueError as exc:
            msg = f"execution ledger {self.path}: the entry {tool_call_id!r} is corrupt ({exc})"
            raise AuditError(msg) from exc
        return extra if isinstance(extra, dict) else None

    def prune(self, *, idle_s: float, paused_keep_s: float = 7 * 86_400,
              now: float | None = None) -> tuple[int, int]:
        """Delete the entries of threads idle for ``idle_s``, keeping those that wait (see :data:`PAUSED_STATUSES`)
        until they have been idle for ``paused_keep_s``. Returns (threads, entries) deleted.

        A file ledger holds every call's result for good: run this from time to time (``airs ledger prune``).
        A pruned thread resumed later runs its calls again, as with a fresh ledger; so the idle time should
        exceed how long a run may wait for a resume. Safe while agents write to the file: each thread is
        re-checked and deleted in one transaction, so one that came back to life meanwhile is kept."""
        if not (idle_s >= 0 and paused_keep_s >= 0):  # NaN too
            raise ValueError("idle_s and paused_keep_s must be numbers of seconds, not negative")
        now = time.time() if now is None else now
        with self._lock:
            quiet = [str(unbound(r[0])) for r in self._run(
                "list idle threads", "SELECT thread_id FROM tool_ledger GROUP BY thread_id HAVING MAX(at) < ?",
                (now - idle_s,)).fetchall()]
        threads = rows = 0
        for thread_id in quiet:
            with self._lock:
                self._run("begin prune", "BEGIN IMMEDIATE", ())
                try:
                    entries = self._entries(thread_id)
                    last = max((e.at for e in entries), default=now)
                    if entries and last < now - idle_s and (last < now - paused_keep_s or not any(map(_pins, entries))):
                        rows += self._run(f"prune thread {thread_id!r}",
                                          "DELETE FROM tool_ledger WHERE thread_id=?", (thread_id,)).rowcount
                        threads += 1
                    self._run("commit prune", "COMMIT", ())
                except BaseException:
                    with contextlib.suppress(AuditError):  # the error that stopped the prune is the one to see
                        self._run("roll back prune", "ROLLBACK", ())
                    raise
        return threads, rows


def _texts(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(map(unbound, row))


def _add_mac_column(conn: sqlite3.Connection) -> None:
    """Give a ledger file made before entries were signed its ``mac`` column (older versions name the columns
    they write, so they keep working on it)."""
    if any(col[1] == "mac" for col in conn.execute("PRAGMA table_info(tool_ledger)")):
        return
    try:
        conn.execute("ALTER TABLE tool_ledger ADD COLUMN mac TEXT")
    except sqlite3.OperationalError as exc:
        if "duplicate column" not in str(exc):  # another process added it first
            raise


def open_ledger(ledger: ExecutionLedger | str | os.PathLike[str] | None, *,
                key: bytes | str | None = None) -> ExecutionLedger:
    """The ledger given, a SQLite file at a path (``Shield(ledger=...)`` or ``AIRS_LEDGER_PATH``), else memory.

    The memory default dies with the process: a run resumed after a restart from a checkpointer that
    persists (SqliteSaver, Postgres) finds no record of the calls that ran, and runs again a call whose
    result was waiting for a reviewer. It is also bounded (see :class:`MemoryLedger`). Exactly-once
    across a restart needs a file. ``key``: what a file ledger signs its entries with (else
    ``AIRS_AUDIT_KEY``)."""
    if ledger is not None and not isinstance(ledger, (str, os.PathLike)):
        return ledger
    path = ledger if ledger is not None else os.environ.get("AIRS_LEDGER_PATH")
    return SQLiteLedger(path, key=key) if path else MemoryLedger()
