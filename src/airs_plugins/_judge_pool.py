"""The threads blocking judge calls run on: a pool of their own, with a bound on the calls outstanding.

A judge call is a model call that may hang. On the event loop's default executor a hanging judge would take
the threads the host's own ``asyncio.to_thread`` calls need; on an unbounded queue every later call would
wait behind the hung ones, each holding its subject, and after the judge recovered that stale backlog would
run first while fresh calls timed out. So calls go through :class:`PooledCall`: at most ``OUTSTANDING`` at a
time (past that the call is refused at once with :class:`JudgeBusy`, which the router treats as a timeout),
and a call its caller gave up on is skipped by the worker that reaches it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from collections.abc import Callable
from typing import Any

WORKERS = 8
OUTSTANDING = 64
_SLOTS = threading.BoundedSemaphore(OUTSTANDING)
_POOL: concurrent.futures.ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


class JudgeBusy(TimeoutError):
    """Every slot is taken by judge calls that have not come back: this one is not made."""


def pool() -> concurrent.futures.ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="airs-judge")
        return _POOL


def free_slots() -> int:
    return _SLOTS._value  # type: ignore[attr-defined,no-any-return]


class PooledCall:
    """``fn(*args)`` run in ``context`` on the judge pool; :meth:`abandon` drops it if no worker took it yet."""

    def __init__(self, fn: Callable[..., Any], *args: Any, context: contextvars.Context | None = None) -> None:
        self._job: tuple[Callable[..., Any], tuple[Any, ...]] | None = (fn, args)
        self._context = context if context is not None else contextvars.copy_context()

    def submit(self) -> concurrent.futures.Future[Any]:
        if not _SLOTS.acquire(blocking=False):
            msg = f"judge busy: {OUTSTANDING} calls outstanding (a judge that does not answer); not asked"
            raise JudgeBusy(msg)
        try:
            return pool().submit(self._run)
        except BaseException:
            _SLOTS.release()
            raise

    def _run(self) -> Any:
        try:
            job = self._job
            if job is None:
                return None  # given up on while queued
            fn, args = job
            return self._context.run(fn, *args)
        finally:
            _SLOTS.release()

    def abandon(self) -> None:
        self._job = None  # also lets go of the request it held


async def run_off_loop(fn: Callable[..., Any], *args: Any, context: contextvars.Context | None = None) -> Any:
    """``await`` a blocking ``fn(*args)`` run on the judge pool (``asyncio.to_thread`` on that pool).

    Cancelling the await (a caller's timeout) abandons the call instead of cancelling its future: a future
    cancelled while queued never reaches the worker code that frees its slot."""
    call = PooledCall(fn, *args, context=context)
    waiter = asyncio.wrap_future(call.submit())
    waiter.add_done_callback(_retrieved)
    try:
        await asyncio.wait((waiter,))
    except BaseException:
        call.abandon()
        raise
    return waiter.result()


def _retrieved(future: asyncio.Future[Any]) -> None:
    # a call given up on may still fail later: nobody awaits it, so asyncio would log the error as lost
    if not future.cancelled():
        future.exception()
