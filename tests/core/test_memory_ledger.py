"""The in-memory execution ledger keeps the most recently used threads, and every thread that waits."""

from __future__ import annotations

import threading

import pytest

from airs_plugins._ledger import DECIDED, INTERRUPTED, REVIEW, WAITING, MemoryLedger


def _ran(ledger: MemoryLedger, thread: str, call: str = "c") -> None:
    assert ledger.claim(thread, call, "lookup") is None
    ledger.complete(thread, call, f"result of {call}")


def test_only_the_most_recently_used_threads_are_kept() -> None:
    ledger = MemoryLedger(max_threads=3)
    for i in range(5):
        _ran(ledger, f"t{i}")
    assert ledger.threads == 3 and ledger.forgotten == 2
    assert ledger.get("t0", "c") is None and ledger.get("t1", "c") is None
    assert ledger.get("t4", "c") is not None and ledger.get("t4", "c").content == "result of c"  # type: ignore[union-attr]


def test_a_read_counts_as_use() -> None:
    ledger = MemoryLedger(max_threads=2)
    _ran(ledger, "old")
    _ran(ledger, "mid")
    assert ledger.get("old", "c") is not None  # the replay check of a call reads first
    _ran(ledger, "new")
    assert ledger.get("mid", "c") is None
    assert ledger.get("old", "c") is not None


@pytest.mark.parametrize("pause", ["running", DECIDED, INTERRUPTED, REVIEW, WAITING, "review extra"])
def test_a_thread_that_waits_is_kept_past_the_bound(pause: str) -> None:
    """Resumed, a forgotten thread would run again the calls that ran before its pause."""
    ledger = MemoryLedger(max_threads=2)
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


def test_a_thread_is_released_when_its_wait_ends() -> None:
    ledger = MemoryLedger(max_threads=2)
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
    ledger = MemoryLedger(max_threads=1, paused_keep_s=0.0)
    ledger.claim("paused", "gated", "send_email")
    _ran(ledger, "other")
    assert ledger.get("paused", "gated") is None and ledger.forgotten == 1


def test_more_waiting_threads_than_the_bound_are_all_kept_and_the_rest_still_go() -> None:
    """An insertion looks at a few of the oldest threads only, so the others may lag a little behind."""
    ledger = MemoryLedger(max_threads=10)
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


def test_threads_writing_at_once_keep_the_bound_and_each_claim_once() -> None:
    ledger = MemoryLedger(max_threads=50)
    won: list[str] = []

    def work(w: int) -> None:
        for i in range(200):
            if ledger.claim(f"t{i % 80}", f"c{i}", "lookup") is None:
                won.append(f"t{i % 80}/c{i}")
                ledger.complete(f"t{i % 80}", f"c{i}", "ok")

    workers = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert ledger.threads <= 50
    assert len(won) >= 200  # every call claimed by one worker (a forgotten one may be claimed again)
