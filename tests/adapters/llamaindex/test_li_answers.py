"""A reviewer's answer acts once: delivered twice (a double click, a retried webhook), or given again to a
second copy of the run restored from the same saved context, it never runs a call twice, never runs a
rejected one, and never makes the step ask again. And two identical calls in flight at once (a model that
sends one constant tool-call id) are two calls, each decided and run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from _li_resume import REVIEW_STEPS, review_marker
from _li_support import GATED, MARKER, SEND, Counted, make_agent, make_shield
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.workflow import Context, StartEvent, StopEvent, Workflow, step

from airs_plugins import MemoryLedger, Shield
from airs_plugins.llamaindex import (
    ApprovalRequired,
    ApprovalResponse,
    guard_tools,
    load_context,
    pending_approvals,
    save_context,
)
from airs_plugins.llamaindex.testing import answer, call

KEY = "answers-test-key-0123456789abcdef"


def _answer(verdict: str, ev: ApprovalRequired | Any, reviewer: str) -> ApprovalResponse:
    return ApprovalResponse.answer(ev, {"type": verdict, "reviewer": reviewer})


async def _run_answering_twice(agent: Any, user_msg: str, second: str) -> tuple[list[Any], list[str]]:
    """Answer the first request with approve and deliver a second answer (``second``) to it at once; any
    further request would be a bug, and is approved so the test sees what it would run."""
    handler = agent.run(user_msg=user_msg)
    results: list[Any] = []
    asked: list[str] = []
    async for ev in handler.stream_events():
        if isinstance(ev, ApprovalRequired):
            asked.append(ev.request_id)
            handler.ctx.send_event(ApprovalResponse.approve(ev, reviewer="alice"))
            if len(asked) == 1:
                handler.ctx.send_event(_answer(second, ev, "bob"))
        elif isinstance(ev, ToolCallResult):
            results.append(ev.tool_output)
    await asyncio.wait_for(handler, 20)
    return results, asked


def _kinds(shield: Shield) -> list[str]:
    return [r.kind for r in shield.recorder.records()]


class TestAnswerDeliveredTwice:
    @pytest.mark.parametrize("second", ["approve", "reject"])
    async def test_call_runs_once_with_one_result(self, counted: Counted, second: str) -> None:
        """The runtime re-runs the waiting step once per matching event. The second pass finds the answer
        acted on: no second execution, no second result, no new request or decision."""
        shield = make_shield(policy=GATED)
        agent = make_agent("function", guard_tools(counted.tools(), shield), [SEND, answer("done")])
        results, asked = await _run_answering_twice(agent, "mail the boss", second)
        assert counted.count("send_email") == 1
        assert len(asked) == 1
        assert [str(o.content) for o in results] == ["sent to boss@corp.example"]
        decisions = [r.body for r in shield.recorder.records() if r.kind == "decision"
                     and r.body["channel"] == "tool_call"]
        assert len(decisions) == 1
        assert _kinds(shield).count("approval") == 1
        refused = [r.body for r in shield.recorder.records() if r.kind == "approval_refused"]
        assert [b["request_id"] for b in refused] == asked

    async def test_result_review_releases_once(self, counted: Counted) -> None:
        """A result under review answered twice is released once; the tool ran once."""
        shield = make_shield(marker=review_marker())
        agent = make_agent("function", guard_tools(counted.tools(), shield), REVIEW_STEPS)
        results, asked = await _run_answering_twice(agent, "read my mail", "reject")
        assert counted.count("read_inbox") == 1
        assert len(asked) == 1
        assert len(results) == 1 and MARKER in str(results[0].content)
        assert _kinds(shield).count("approval") == 1


async def _pause(ledger: Path | MemoryLedger, counted: Counted, *, review: bool = False) -> str:
    shield = make_shield(ledger=ledger, **({"marker": review_marker()} if review else {"policy": GATED}))
    agent = make_agent("function", guard_tools(counted.tools(), shield), REVIEW_STEPS if review else [
        SEND, answer("done")])
    handler = agent.run(user_msg="read my mail" if review else "mail the boss")
    async for ev in handler.stream_events():
        if isinstance(ev, ApprovalRequired):
            break
    blob = save_context(handler, key=KEY)
    await handler.cancel_run()
    return blob


async def _resume(ledger: Path | MemoryLedger, counted: Counted, blob: str, verdict: str, *,
                  review: bool = False) -> tuple[str, Shield]:
    """A fresh shield and agent (as another process would build them), the blob restored and answered."""
    shield = make_shield(ledger=ledger, **({"marker": review_marker()} if review else {"policy": GATED}))
    agent = make_agent("function", guard_tools(counted.tools(), shield), REVIEW_STEPS if review else [
        SEND, answer("done")])
    ctx = load_context(agent, blob, key=KEY)
    (pending,) = await pending_approvals(ctx)
    handler = agent.run(ctx=ctx)
    handler.ctx.send_event(_answer(verdict, pending, f"{verdict}-er"))
    await asyncio.wait_for(handler, 20)
    memory = await handler.ctx.store.get("memory")
    (told,) = [m.content or "" for m in await memory.aget_all() if m.role.value == "tool"]
    return told, shield


class TestAnswerAfterRestore:
    async def test_rejected_call_stays_rejected(self, counted: Counted, tmp_path: Path) -> None:
        """Restoring the same saved run twice: the first copy's rejection stands. The second copy's approval
        is refused (recorded as such) and the model is told the call was not run."""
        ledger = tmp_path / "ledger.db"
        blob = await _pause(ledger, counted)
        first, _ = await _resume(ledger, counted, blob, "reject")
        second, shield = await _resume(ledger, counted, blob, "approve")
        assert counted.count("send_email") == 0
        assert "was not run" in first
        assert second == first
        assert "approval_refused" in _kinds(shield)
        assert "tool_execution" not in _kinds(shield)

    async def test_approved_call_is_reported_as_run(self, counted: Counted, tmp_path: Path) -> None:
        """The other order: the call ran once after the first copy's approval; the second copy's rejection is
        refused and the model reads the result of the call that did run, not "was not run"."""
        ledger = tmp_path / "ledger.db"
        blob = await _pause(ledger, counted)
        first, _ = await _resume(ledger, counted, blob, "approve")
        second, shield = await _resume(ledger, counted, blob, "reject")
        assert counted.count("send_email") == 1
        assert first == second == "sent to boss@corp.example"
        assert "approval_refused" in _kinds(shield)

    @pytest.mark.parametrize(("min_idle_s", "runs"), [(3_600.0, 1), (0.0, 2)])
    async def test_the_in_memory_ledger_keeps_the_first_outcome_while_other_runs_come_and_go(
            self, counted: Counted, min_idle_s: float, runs: int) -> None:
        """A bounded ``MemoryLedger`` that holds one thread: another run comes between the two copies. Every run
        keys its own thread here, so the first copy's record is the oldest; the hour's floor keeps it and the
        second copy is refused. Without the floor (``min_idle_s=0``) it is forgotten and the call runs twice."""
        ledger = MemoryLedger(max_threads=1, min_idle_s=min_idle_s)
        blob = await _pause(ledger, counted)
        await _resume(ledger, counted, blob, "approve")
        other = Counted()
        agent = make_agent("function", guard_tools(other.tools(), make_shield(ledger=ledger)),
                           [call("read_inbox"), answer("ok")])
        await asyncio.wait_for(agent.run(user_msg="read my mail"), 20)
        _told, shield = await _resume(ledger, counted, blob, "approve")
        assert counted.count("send_email") == runs
        assert ("approval_refused" in _kinds(shield)) is (runs == 1)

    @pytest.mark.parametrize(("first_verdict", "second_verdict"), [("reject", "approve"), ("approve", "reject")])
    async def test_result_review_outcome_stands(self, counted: Counted, tmp_path: Path, first_verdict: str,
                                                second_verdict: str) -> None:
        """The same for a result under review: whatever the first answer gave the model, the second copy gives
        it too; the tool never runs again."""
        ledger = tmp_path / "ledger.db"
        blob = await _pause(ledger, counted, review=True)
        first, _ = await _resume(ledger, counted, blob, first_verdict, review=True)
        second, shield = await _resume(ledger, counted, blob, second_verdict, review=True)
        assert counted.count("read_inbox") == 1
        assert second == first
        assert (MARKER in first) == (first_verdict == "approve")
        assert "approval_refused" in _kinds(shield)


def _constant_ids(messages: list[ChatMessage], **_: Any) -> ChatMessage:
    """llama.cpp style: every tool call carries the same id; the first turn makes one call twice."""
    if not any(m.role == MessageRole.ASSISTANT for m in messages):
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=[
            ToolCallBlock(tool_call_id="call_0", tool_name="ping", tool_kwargs={"host": "a"}) for _ in range(2)])
    return ChatMessage(role=MessageRole.ASSISTANT, content="done")


class TestSameCallInFlightTwice:
    @pytest.mark.parametrize("gated", [False, True])
    async def test_both_calls_are_decided_and_run(self, gated: bool) -> None:
        """Both calls get their own id: each is decided (and, gated, asked about) and runs once; neither is
        refused as an unfinished earlier call, and the run does not hang on a lost approval. The tool returns
        only once both calls are inside it, so they are in flight together."""
        inside: list[str] = []
        both = asyncio.Event()

        async def ping(host: str) -> str:
            """Ping a host."""
            inside.append(host)
            if len(inside) == 2:
                both.set()
            await asyncio.wait_for(both.wait(), 5)
            return f"pong {host}"

        shield = Shield.from_policy({"tools": {"ping": {"side_effect": "external", "risk_tier": "HIGH",
                                                        "require_approval": True} if gated else {
            "side_effect": "read"}}})
        agent = FunctionAgent(tools=guard_tools([ping], shield),
                              llm=MockFunctionCallingLLM(response_generator=_constant_ids))
        handler = agent.run(user_msg="ping a twice")
        results: list[Any] = []
        asked: list[str] = []

        async def consume() -> Any:
            async for ev in handler.stream_events():
                if isinstance(ev, ApprovalRequired):
                    asked.append(ev.request_id)
                    handler.ctx.send_event(ApprovalResponse.approve(ev, reviewer="alice"))
                elif isinstance(ev, ToolCallResult):
                    results.append(ev.tool_output)
            return await handler

        assert str(await asyncio.wait_for(consume(), 20)) == "done"
        assert inside == ["a", "a"]
        assert [(o.is_error, str(o.content)) for o in results] == [(False, "pong a")] * 2
        assert len(set(asked)) == len(asked) == (2 if gated else 0)
        calls = {r.body["tool_call_id"] for r in shield.recorder.records() if r.kind == "tool_execution"}
        assert len(calls) == 2


class TestSameCallTwiceInOneStep:
    async def test_a_step_that_repeats_a_call_runs_it_twice(self, counted: Counted) -> None:
        """One step calling a guarded tool twice with the same arguments makes two calls (the second is not
        taken for a replay of the first)."""
        _read, send, _drop = guard_tools(counted.tools(), make_shield(policy={"tools": {
            "send_email": {"side_effect": "read"}}}))

        class Twice(Workflow):
            @step
            async def go(self, ctx: Context, ev: StartEvent) -> StopEvent:
                outs = [await send.acall(airs_ctx=ctx, to="a@corp.example", body="hi") for _ in range(2)]
                return StopEvent(result=[str(o.content) for o in outs])

        assert await Twice(timeout=20).run() == ["sent to a@corp.example"] * 2
        assert counted.count("send_email") == 2


TWO_GATED = {"tools": {**GATED["tools"], "drop_db": {"side_effect": "irreversible", "risk_tier": "HIGH",
                                                     "require_approval": True}}}
BOTH = [[SEND, call("drop_db", name="staging")], answer("done")]


class TestTwoAnswersAfterRestore:
    @pytest.mark.parametrize("kind", ["function", "workflow"])
    @pytest.mark.parametrize("first", ["send_email", "drop_db"])
    async def test_each_answer_reaches_its_own_call(self, counted: Counted, tmp_path: Path, kind: str,
                                                    first: str) -> None:
        """Two calls wait, the run is saved and restored, and both answers are sent at once. A restored
        waiter has lost its request id filter (the runtime does not save it) until its step runs again, so
        the first answer reached both calls: approving the e-mail also ran the rejected drop_db."""
        ledger = tmp_path / "ledger.db"
        shield = make_shield(ledger=ledger, policy=TWO_GATED)
        handler = make_agent(kind, guard_tools(counted.tools(), shield), BOTH).run(user_msg="mail and drop")
        asked = 0
        async for ev in handler.stream_events():
            if isinstance(ev, ApprovalRequired):
                asked += 1
                if asked == 2:
                    break
        blob = save_context(handler, key=KEY)
        await handler.cancel_run()

        shield = make_shield(ledger=ledger, policy=TWO_GATED)
        agent = make_agent(kind, guard_tools(counted.tools(), shield), BOTH)
        ctx = load_context(agent, blob, key=KEY)
        pending = sorted(await pending_approvals(ctx), key=lambda p: p.tool_name != first)
        handler = agent.run(ctx=ctx)
        verdicts = {"send_email": "approve", "drop_db": "reject"}
        for p in pending:
            handler.ctx.send_event(_answer(verdicts[str(p.tool_name)], p, "rev"))
        async for ev in handler.stream_events():
            if isinstance(ev, ApprovalRequired):  # asked again: the answer it got was another request's
                handler.ctx.send_event(_answer(verdicts[str(ev.tool_name)], ev, "rev"))
        await asyncio.wait_for(handler, 20)
        assert counted.count("send_email") == 1
        assert counted.count("drop_db") == 0


def test_the_work_items_a_run_keeps_are_bounded() -> None:
    """Each call's step keeps its number for replays; a long run keeps only the newest ``MAX_ITEMS``, so its
    saved context does not grow with every call it ever made. A recent step still replays as itself."""
    from airs_plugins.llamaindex._state import ITEMS_KEY, MAX_ITEMS, LocalState

    async def go() -> None:
        state = LocalState()
        for i in range(MAX_ITEMS + 50):
            await state.reserve("lookup", f"item-{i}")
        items = await state._get(ITEMS_KEY)
        assert len(items) == MAX_ITEMS and "item-0" not in items
        last = f"item-{MAX_ITEMS + 49}"
        assert await state.reserve("lookup", last) == (items[last], True)

    asyncio.run(go())
