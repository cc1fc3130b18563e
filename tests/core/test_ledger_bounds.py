"""Execution ledgers do not grow for good: the in-memory one keeps the most recently used threads and every
thread that waits; a file ledger is pruned on demand (``SQLiteLedger.prune``, ``airs ledger prune``)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from airs_plugins import AuditError, Shield
from airs_plugins._ledger import DECIDED, INTERRUPTED, REVIEW, WAITING, MemoryLedger, SQLiteLedger


def _ran(ledger: MemoryLedger, thread: str, call: str = "c") -> None:
    assert ledger.claim(thread, call, "lookup") is None
    ledger.complete(thread, call, f"result of {call}")


def test_only_the_most_recently_used_threads_are_kept() -> None:
    ledger = MemoryLedger(max_threads=3, min_idle_s=0)
    for i in range(5):
        _ran(ledger, f"t{i}")
    assert ledger.threads == 3 and ledger.forgotten == 2
    assert ledger.get("t0", "c") is None and ledger.get("t1", "c") is None
    assert ledger.get("t4", "c") is not None and ledger.get("t4", "c").content == "result of c"  # type: ignore[union-attr]


def test_a_read_counts_as_use() -> None:
    ledger = MemoryLedger(max_threads=2, min_idle_s=0)
    _ran(ledger, "old")
    _ran(ledger, "mid")
    assert ledger.get("old", "c") is not None  # the replay check of a call reads first
    _ran(ledger, "new")
    assert ledger.get("mid", "c") is None
    assert ledger.get("old", "c") is not None


@pytest.mark.parametrize("pause", ["running", DECIDED, INTERRUPTED, REVIEW, WAITING, "review extra"])
def test_a_thread_that_waits_is_kept_past_the_bound(pause: str) -> None:
    """Resumed, a forgotten thread would run again the calls that ran before its pause."""
    ledger = MemoryLedger(max_threads=2, min_idle_s=0)
    _ran(ledger, "paused", "sibling")
    if pause == "running":
        ledger.claim("paused", "gated", "send_email")
    elif pause == "review extra":  # a result that ran and waits for a reviewer (LangChain keeps it in extra)
        ledger.claim("paused", "gated", "send_email")
        ledger.complete("paused", "gated", "sent", extra={REVIEW: {"id": "r1"}})
    else:
        ledger.claim("paused", "gated", "send_email")
        ledger.complete("paused", "gated", "", status=pause)
    for i in range(10):
        _ran(ledger, f"other{i}")
    assert ledger.get("paused", "sibling") is not None
    assert ledger.threads == 2 and ledger.get("other9", "c") is not None  # the bound holds the newest other


def test_a_thread_is_released_once_its_waiting_entry_is_settled() -> None:
    ledger = MemoryLedger(max_threads=2, min_idle_s=0)
    ledger.claim("paused", "gated", "send_email")
    ledger.complete("paused", "gated", "", status=DECIDED)
    _ran(ledger, "a")
    _ran(ledger, "b")
    assert ledger.get("paused", "gated") is not None
    ledger.complete("paused", "gated", "sent")  # answered and run: nothing waits any more
    _ran(ledger, "c")
    _ran(ledger, "d")
    assert ledger.get("paused", "gated") is None


def test_a_wait_idle_past_its_keep_is_forgotten_too() -> None:
    ledger = MemoryLedger(max_threads=1, min_idle_s=0, paused_keep_s=0.0)
    ledger.claim("paused", "gated", "send_email")
    _ran(ledger, "other")
    assert ledger.get("paused", "gated") is None and ledger.forgotten == 1


def test_more_waiting_threads_than_the_bound_are_all_kept_and_the_rest_still_go() -> None:
    """An insertion looks at a few of the oldest threads only, so the others may lag a little behind."""
    ledger = MemoryLedger(max_threads=10, min_idle_s=0)
    for i in range(500):
        ledger.claim(f"paused{i}", "gated", "send_email")
    for i in range(300):
        _ran(ledger, f"t{i}")
    assert all(ledger.get(f"paused{i}", "gated") is not None for i in range(500))
    assert ledger.forgotten >= 290 and ledger.threads <= 510


def test_no_bound_and_a_bad_bound() -> None:
    ledger = MemoryLedger(max_threads=None)
    for i in range(200):
        _ran(ledger, f"t{i}")
    assert ledger.threads == 200 and len(ledger) == 200 and ledger.forgotten == 0
    with pytest.raises(ValueError, match="max_threads must be at least 1"):
        MemoryLedger(max_threads=0)


def test_entries_are_per_thread_oldest_first() -> None:
    ledger = MemoryLedger()
    _ran(ledger, "t", "a")
    _ran(ledger, "u", "x")
    _ran(ledger, "t", "b")
    assert [e.tool_call_id for e in ledger.entries("t")] == ["a", "b"]
    assert ledger.entries("nobody") == [] and len(ledger) == 3


def test_threads_writing_at_once_each_claim_a_call_once() -> None:
    """Four workers race for the same 200 calls of 80 threads, all used just now: none is forgotten (the hour's
    floor), so each call is claimed by exactly one worker."""
    ledger = MemoryLedger(max_threads=50)
    won: list[str] = []

    def work() -> None:
        for i in range(200):
            if ledger.claim(f"t{i % 80}", f"c{i}", "lookup") is None:
                won.append(f"t{i % 80}/c{i}")
                ledger.complete(f"t{i % 80}", f"c{i}", "ok")

    workers = [threading.Thread(target=work) for _ in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert sorted(won) == sorted(f"t{i % 80}/c{i}" for i in range(200))
    assert ledger.threads == 80 and ledger.forgotten == 0 and len(ledger) == 200


def test_no_thread_used_within_the_floor_is_forgotten() -> None:
    """A pause the ledger cannot see (an interrupt of the host's own) is covered for ``min_idle_s``."""
    ledger = MemoryLedger(max_threads=2)
    for i in range(20):
        _ran(ledger, f"t{i}")
    assert ledger.threads == 20 and ledger.forgotten == 0
    assert MemoryLedger(min_idle_s=3_600, paused_keep_s=60).paused_keep_s == 3_600  # a wait is kept as long


# -- the file ledger: pruned on demand ------------------------------------------------------------
DAY = 86_400.0


def _filled(path: Path) -> SQLiteLedger:
    ledger = SQLiteLedger(path)
    for thread in ("done-1", "done-2"):
        assert ledger.claim(thread, "c", "lookup") is None
        ledger.complete(thread, "c", "result")
    ledger.claim("under-way", "c", "lookup")  # started, never finished
    ledger.claim("held", "c", "read_page")
    ledger.complete("held", "c", "page", extra={REVIEW: {"id": "r1"}})  # ran; its result waits for review
    ledger.claim("held", "d", "lookup")
    ledger.complete("held", "d", "result")
    return ledger


def test_prune_deletes_quiet_threads_and_keeps_those_that_wait_longer(tmp_path: Path) -> None:
    ledger = _filled(tmp_path / "ledger.db")
    now = time.time()
    assert ledger.prune(idle_s=DAY, now=now) == (0, 0)  # nothing is a day old yet
    assert ledger.prune(idle_s=DAY, now=now + 2 * DAY) == (2, 2)
    assert ledger.get("done-1", "c") is None and ledger.get("done-2", "c") is None
    assert ledger.get("under-way", "c") is not None and len(ledger.entries("held")) == 2
    assert ledger.prune(idle_s=DAY, paused_keep_s=7 * DAY, now=now + 8 * DAY) == (2, 3)
    assert ledger.entries("under-way") == [] and ledger.entries("held") == []


def test_prune_keeps_a_thread_that_came_back_while_it_ran(tmp_path: Path) -> None:
    """Listed as quiet, then written to before its turn came: the check in the deleting transaction keeps it."""
    ledger = _filled(tmp_path / "ledger.db")
    later = time.time() + 2 * DAY
    woke = ledger._entries

    def entries_after_a_write(thread_id: str) -> list[Any]:
        if thread_id == "done-2":
            ledger._run("late write", "UPDATE tool_ledger SET at=? WHERE thread_id=?", (later, thread_id))
        return woke(thread_id)

    ledger._entries = entries_after_a_write  # type: ignore[method-assign]
    assert ledger.prune(idle_s=DAY, now=later) == (1, 1)
    assert ledger.get("done-1", "c") is None and ledger.get("done-2", "c") is not None


@pytest.mark.parametrize("idle_s", [-1.0, float("nan")])
def test_prune_refuses_a_time_that_is_no_time(tmp_path: Path, idle_s: float) -> None:
    with pytest.raises(ValueError, match="not negative"):
        SQLiteLedger(tmp_path / "l.db").prune(idle_s=idle_s)


def test_a_corrupt_entry_is_an_audit_error_naming_the_file(tmp_path: Path) -> None:
    ledger = _filled(tmp_path / "ledger.db")
    ledger._run("corrupt", "UPDATE tool_ledger SET extra='{not json' WHERE thread_id='held'", ())
    with pytest.raises(AuditError, match=r"ledger\.db: the entry 'c' is corrupt"):
        ledger.get("held", "c")
    with pytest.raises(AuditError, match="is corrupt"):
        ledger.prune(idle_s=0, paused_keep_s=0, now=time.time() + 1)


def _prune(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "airs_plugins", "ledger", "prune", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_airs_ledger_prune(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    _filled(path)
    kept = _prune(str(path), "--idle-days", "1")
    assert kept.returncode == 0 and kept.stdout.strip() == f"pruned 0 entries of 0 threads from {path}"
    now = _prune(str(path), "--idle-days", "0", "--json")
    assert now.returncode == 0 and json.loads(now.stdout) == {"threads": 2, "entries": 2}
    assert [e.tool_call_id for e in SQLiteLedger(path).entries("held")] == ["c", "d"]
    everything = _prune(str(path), "--idle-days", "0", "--paused-keep-days", "0", "--json")
    assert json.loads(everything.stdout) == {"threads": 2, "entries": 3}
    missing = _prune(str(tmp_path / "nope.db"), "--idle-days", "1")
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"airs: no ledger database at {tmp_path / 'nope.db'}"
    for bad in ("-1", "nan"):
        refused = _prune(str(path), "--idle-days", bad)
        assert refused.returncode == 2 and "not negative" in refused.stderr


def test_airs_ledger_prune_leaves_a_file_that_is_no_ledger_alone(tmp_path: Path) -> None:
    """An audit trail given by mistake is refused before anything is written to it (no table, no WAL)."""
    audit = tmp_path / "audit.db"
    Shield.default(audit=audit).check_input("hello")
    before = audit.read_bytes()
    refused = _prune(str(audit), "--idle-days", "0")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (f"airs: {audit} is not an execution ledger (no tool_ledger table); "
                                      "nothing was changed")
    assert audit.read_bytes() == before
    text = tmp_path / "notes.txt"
    text.write_text("not a database", encoding="utf-8")
    assert _prune(str(text), "--idle-days", "0").returncode == 2


def test_airs_ledger_prune_reports_a_corrupt_entry_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    _filled(path)._run("corrupt", "UPDATE tool_ledger SET extra='{not json' WHERE thread_id='done-1'", ())
    out = _prune(str(path), "--idle-days", "0")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "is corrupt" in out.stderr
