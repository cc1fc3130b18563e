"""Where a guarded run keeps what the stateless core needs: ``ctx.store`` of the workflow.

Keys (plain JSON, so ``JsonPickleSerializer`` and even ``JsonSerializer`` keep them):

* ``airs_context`` – the ``RunContext`` dump (taint, caps, ids); its ``thread_id`` is the run id the
  execution ledger is keyed by;
* ``airs_pending`` – ``{call_id: ApprovalRequest JSON}`` for calls waiting for a human, so the replay
  of the step after the answer (or after a restore) neither re-checks nor re-records;
* ``airs_seq`` – per call identity, the next sequence number, so a legitimate repeat gets a new id;
* ``airs_items`` – per step work item (see ``current_work_item``), the sequence number its call
  reserved: every replay of that step (after an answer, a duplicate answer, a restore) is the same call,
  and two calls with one identity in flight at once (a constant tool id) are two calls.

Outside a workflow (a guarded tool called directly) the same state lives in memory.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .._context_codec import decode_context, encode_context
from .._decision import ApprovalRequest, RunContext
from ._translate import merge_goal

CONTEXT_KEY = "airs_context"
PENDING_KEY = "airs_pending"
SEQ_KEY = "airs_seq"
ITEMS_KEY = "airs_items"
MAX_ITEMS = 1024

# Parallel tool calls of one run read-modify-write the same RunContext; one lock per run id keeps
# taint and counters from being lost. Weak values: a lock lives only while someone holds it.
_LOCKS: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
# Calls whose reviewer's answer this process has acted on, per run store. Only in memory: a duplicate
# answer re-runs the step here, while a restored copy of the run must ask the durable ledger instead.
_SETTLED: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()
# The arguments each call ran with, per run store and call identity, until AIRSWorkflow forwards the call's events
# (the model wrote them; only a guard that let the call run may show them). In memory only and bounded: a call
# replayed after a restore, or never forwarded, shows no arguments rather than stale ones.
_SHOWN: weakref.WeakKeyDictionary[Any, dict[str, dict[str, Any]]] = weakref.WeakKeyDictionary()
MAX_SHOWN = 256


def _lock_for(key: str) -> asyncio.Lock:
    lock = _LOCKS.get(key)
    if lock is None:
        lock = asyncio.Lock()
        _LOCKS[key] = lock
    return lock


class RunState:
    """Async access to a run's AIRS state; subclasses choose the storage.

    One instance serves one tool invocation, so the run's user message is read once per call.
    """

    _user_msg: str | bool | None = False  # False: not read yet
    replays = True
    """Steps that call the tool can re-run (a workflow); without them every call is a new one."""

    async def _get(self, key: str) -> Any:
        raise NotImplementedError

    async def _set(self, key: str, value: Any) -> None:
        raise NotImplementedError

    def _lock_key(self) -> str:
        raise NotImplementedError

    async def user_msg(self) -> str | None:
        return None

    async def agent_name(self) -> str | None:
        return None

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        lock = _lock_for(self._lock_key())
        async with lock:
            yield

    async def started(self) -> bool:
        """Whether the run has a context already (a guard of this run decided before, or a caller seeded it)."""
        return await self._get(CONTEXT_KEY) is not None

    async def context(self) -> RunContext:
        stored = await self._get(CONTEXT_KEY)
        if self._user_msg is False:
            self._user_msg = await self.user_msg()
        user_msg = self._user_msg if isinstance(self._user_msg, str) else None
        agent = await self.agent_name()
        if stored is None:
            run_id = uuid.uuid4().hex
            ctx = RunContext(run_id=run_id, thread_id=run_id, agent_id=agent, user_goal=merge_goal(None, user_msg))
            await self.save_context(ctx)
            return ctx
        ctx = decode_context(stored)
        update: dict[str, Any] = {}
        goal = merge_goal(ctx.user_goal, user_msg)
        if goal != ctx.user_goal:
            update["user_goal"] = goal
        # the run's context is shared by every agent of an AgentWorkflow (taint crosses a handoff), but a decision
        # is the agent's that is in charge now: after a handoff, the next agent's calls are not the first one's
        if agent is not None and agent != ctx.agent_id:
            update["agent_id"] = agent
        return ctx.model_copy(update=update) if update else ctx

    async def save_context(self, ctx: RunContext) -> dict[str, Any]:
        """Store the context; returns the stored dump (the ledger keeps the same one)."""
        dumped = encode_context(ctx)
        await self._set(CONTEXT_KEY, dumped)
        return dumped

    async def pending(self, call_id: str) -> ApprovalRequest | None:
        table = await self._get(PENDING_KEY) or {}
        raw = table.get(call_id)
        return ApprovalRequest.model_validate(raw) if raw is not None else None

    async def all_pending(self) -> list[ApprovalRequest]:
        table = await self._get(PENDING_KEY) or {}
        return [ApprovalRequest.model_validate(v) for v in table.values()]

    async def set_pending(self, call_id: str, request: ApprovalRequest) -> None:
        table = dict(await self._get(PENDING_KEY) or {})
        table[call_id] = request.model_dump(mode="json")
        await self._set(PENDING_KEY, table)

    async def drop_pending(self, call_id: str) -> None:
        table = dict(await self._get(PENDING_KEY) or {})
        if table.pop(call_id, None) is not None:
            await self._set(PENDING_KEY, table)

    def show_args(self, base: str, args: dict[str, Any]) -> None:
        """Record that the call ``base`` runs with ``args``, so a stream may show them (see :func:`shown_args`)."""

    def settled(self) -> dict[str, str]:
        """The calls (and result reviews) whose reviewer's answer this process has acted on: key → request id."""
        raise NotImplementedError

    async def reserve(self, base: str, item: str | None) -> tuple[int, bool]:
        """The call's sequence number, and whether its work item had one already (a replay of its step).

        A work item keeps the number it reserved first through every replay of its step. Without one (a
        runtime that does not say) a replay cannot be told from a new call, so the number is only read, and
        moves on when the call finishes."""
        items: dict[str, Any] = {}
        if item is not None:
            items = await self._get(ITEMS_KEY) or {}
            if item in items:
                return int(items[item]), True
        table = dict(await self._get(SEQ_KEY) or {})
        seq = int(table.get(base, 0))
        if item is None and self.replays:
            return seq, False
        table[base] = seq + 1
        await self._set(SEQ_KEY, table)
        if item is not None:
            # the newest MAX_ITEMS: an answer delivered again, or a restore, replays a recent step, and a run
            # that goes on for thousands of calls must not carry every one of them in its saved context
            kept = list(items.items())[-(MAX_ITEMS - 1):]
            await self._set(ITEMS_KEY, {**dict(kept), item: seq})
        return seq, False

    async def advance(self, base: str, seq: int, item: str | None) -> int:
        """Close the attempt ``seq`` and give its work item a new number: the step's next replay is a new,
        checked attempt (the tool paused inside and nothing after its wait ran)."""
        if item is None:
            await self.finish(base, seq)
            return seq + 1
        items = dict(await self._get(ITEMS_KEY) or {})
        items.pop(item, None)
        await self._set(ITEMS_KEY, items)
        return (await self.reserve(base, item))[0]

    async def save_and_finish(self, ctx: RunContext, base: str, seq: int) -> dict[str, Any]:
        dumped = await self.save_context(ctx)
        await self.finish(base, seq)
        return dumped

    async def finish(self, base: str, seq: int) -> None:
        table = dict(await self._get(SEQ_KEY) or {})
        # max(): a replayed finish of an already counted call must not skip a sequence number; a reserved
        # number is counted already, and writing nothing then keeps another call's reservation
        if int(table.get(base, 0)) <= seq:
            table[base] = seq + 1
            await self._set(SEQ_KEY, table)


class StoreState(RunState):
    """State in a workflow ``Context.store`` (persisted with the context)."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    async def _get(self, key: str) -> Any:
        return await self.ctx.store.get(key, default=None)

    async def _set(self, key: str, value: Any) -> None:
        await self.ctx.store.set(key, value)

    def _lock_key(self) -> str:
        # every step gets its own Context facade over one shared store; lock on the store
        return f"store:{id(self.ctx.store)}"

    def settled(self) -> dict[str, str]:
        store = self.ctx.store
        done = _SETTLED.get(store)
        if done is None:
            done = _SETTLED[store] = {}
        return done

    def show_args(self, base: str, args: dict[str, Any]) -> None:
        shown = _SHOWN.get(self.ctx.store)
        if shown is None:  # nobody forwards this run's events (see forwarding): its arguments are not kept
            return
        shown.pop(base, None)  # the newest last, so the bound drops the oldest
        shown[base] = dict(args)
        while len(shown) > MAX_SHOWN:  # calls whose events were never forwarded (a run cancelled mid-call)
            del shown[next(iter(shown))]

    async def user_msg(self) -> str | None:
        value = await self._get("user_msg_str")
        return value if isinstance(value, str) else None

    async def agent_name(self) -> str | None:
        value = await self._get("current_agent_name")
        return value if isinstance(value, str) else None


def forwarding(store: Any) -> None:
    """``AIRSWorkflow`` forwards the tool events of the run keeping ``store``: from now on its guarded calls keep
    the arguments they run with until :func:`shown_args` takes them. Any other run keeps none: a context reused
    across a long session would otherwise hold the arguments (a file's content, a mail body) of its last
    ``MAX_SHOWN`` calls for nobody."""
    if _SHOWN.get(store) is None:
        _SHOWN[store] = {}


def shown_args(store: Any, base: str) -> dict[str, Any] | None:
    """The arguments a guard let the call ``base`` run with (taken: shown once), or None when no guard did
    (refused, not guarded, an unknown tool, or replayed after a restore)."""
    return _SHOWN.get(store, {}).pop(base, None)


class LocalState(RunState):
    """State kept in memory by one ``guard_tools`` call, for tools called outside a workflow."""

    replays = False

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._settled: dict[str, str] = {}

    def settled(self) -> dict[str, str]:
        return self._settled

    async def _get(self, key: str) -> Any:
        return self._data.get(key)

    async def _set(self, key: str, value: Any) -> None:
        self._data[key] = value

    def _lock_key(self) -> str:
        return f"local:{id(self)}"
