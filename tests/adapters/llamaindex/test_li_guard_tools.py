"""guard_tools with real FunctionAgent, ReActAgent and AgentWorkflow (with a handoff) runs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _li_support import MARKER, SEND, Counted, MarkerCheck, drive, make_agent, make_shield
from llama_index.core.tools import FunctionTool

from airs_plugins import Action, Blocked
from airs_plugins.llamaindex import ApprovalRequired, ApprovalResponse, GuardedTool, guard_tools
from airs_plugins.llamaindex.testing import answer, call

ASK = "Summarise my newest e-mail and send it to boss@corp.example"


def _kinds(records: Any) -> list[str]:
    return [r.kind for r in records]


class TestWrapper:
    def test_metadata_is_preserved_for_sync_and_async_functions(self, counted: Counted) -> None:
        """Each wrapper keeps the inner tool's name, description and LLM-facing schema."""
        inner = [FunctionTool.from_defaults(fn) for fn in counted.tools()]
        wrapped = guard_tools(inner, make_shield())
        for before, after in zip(inner, wrapped, strict=True):
            assert isinstance(after, GuardedTool)
            assert after.metadata.name == before.metadata.name
            assert after.metadata.description == before.metadata.description
            assert after.metadata.fn_schema is before.metadata.fn_schema
            assert "airs_ctx" not in after.metadata.get_parameters_dict()["properties"]

    async def test_direct_call_outside_a_workflow_is_checked(self, counted: Counted) -> None:
        """A guarded tool called without an agent still blocks a denied call and runs an allowed one."""
        read, _send, drop = guard_tools(counted.tools(), make_shield())
        out = await read.acall()
        assert MARKER in out.content
        with pytest.raises(Blocked, match="was not run"):
            await drop.acall(name="prod")
        assert counted.count("drop_db") == 0

    def test_sync_call_path_is_guarded_too(self, counted: Counted) -> None:
        """The wrapper's sync ``call`` (no running loop) checks the same way as ``acall``."""
        read, _send, drop = guard_tools(counted.tools(), make_shield())
        assert MARKER in read.call().content
        with pytest.raises(Blocked):
            drop.call(name="prod")
        assert counted.count("drop_db") == 0

    def test_judge_argument_only_attaches_the_judge(self, counted: Counted) -> None:
        """guard_tools(judge=...) hands the judge to the shield, which does the routing."""
        shield = make_shield()
        assert shield.judge is None
        guard_tools(counted.tools(), shield, judge=lambda subject, findings: "pass")
        assert shield.judge is not None

    async def test_direct_call_needing_approval_is_refused(self, counted: Counted) -> None:
        """Outside a workflow nobody can approve, so a gated call is refused and never runs."""
        tools = guard_tools(counted.tools(), make_shield(policy={"tools": {
            "send_email": {"require_approval": True, "side_effect": "external"}}}))
        with pytest.raises(Exception, match="needs human approval"):
            await tools[1].acall(to="a@b.example", body="x")
        assert counted.count("send_email") == 0


class TestEnforcement:
    async def test_blocked_call_never_executes(self, kind: str, counted: Counted, guarded: Any) -> None:
        """A call the policy denies is answered with an error output and the tool does not run."""
        shield = make_shield()
        agent = make_agent(kind, guarded(shield), [call("drop_db", name="prod"), answer("could not")])
        result, asked = await drive(agent, "drop the prod database")
        assert counted.count("drop_db") == 0
        assert asked == []
        assert "could not" in str(result)
        blocked = [r for r in shield.recorder.records() if r.kind == "decision" and r.body["tool_name"] == "drop_db"]
        assert [r.body["action"] for r in blocked] == ["block"]

    async def test_rejected_call_never_executes(self, kind: str, counted: Counted, guarded: Any) -> None:
        """After an injected result, the outward call waits for a human; a rejection means it never runs."""
        shield = make_shield()
        agent = make_agent(kind, guarded(shield), [call("read_inbox"), SEND, answer("not sent")])
        _, asked = await drive(agent, ASK, lambda ev: ApprovalResponse.reject(ev, reviewer="rita", reason="odd"))
        assert len(asked) == 1
        assert asked[0].tool_name == "send_email"
        assert counted.count("read_inbox") == 1
        assert counted.count("send_email") == 0

    async def test_approved_call_executes_exactly_once(self, kind: str, counted: Counted, guarded: Any) -> None:
        """An approved call runs once even though the step replays when the answer arrives."""
        shield = make_shield()
        agent = make_agent(kind, guarded(shield), [call("read_inbox"), SEND, answer("sent")])
        result, asked = await drive(agent, ASK, lambda ev: ApprovalResponse.approve(ev, reviewer="alice"))
        assert counted.args_of("send_email") == [{"to": "boss@corp.example", "body": "summary"}]
        assert "sent" in str(result)
        kinds = _kinds(shield.recorder.records())
        assert kinds.count("approval_request") == 1  # the replay did not ask (or record) twice
        assert kinds.count("approval") == 1
        send_decisions = [r for r in shield.recorder.records()
                          if r.kind == "decision" and r.body["channel"] == "tool_call"
                          and r.body["tool_name"] == "send_email"]
        assert len(send_decisions) == 1
        assert asked[0].request_id == "apr-" + send_decisions[0].body["correlation_id"]

    async def test_edited_call_runs_with_the_edited_args(self, kind: str, counted: Counted, guarded: Any) -> None:
        """An edit runs the tool once with the reviewer's arguments, not the model's."""
        shield = make_shield()
        agent = make_agent(kind, guarded(shield), [call("read_inbox"), SEND, answer("sent")])
        edited = {"to": "boss@corp.example", "body": "summary (reviewed)"}
        await drive(agent, ASK, lambda ev: ApprovalResponse.edit(ev, edited, reviewer="ed"))
        assert counted.args_of("send_email") == [edited]
        execs = [r.body for r in shield.recorder.records() if r.kind == "tool_execution"]
        assert [e["edited"] for e in execs if e["tool_name"] == "send_email"] == [True]

    async def test_respond_returns_the_reviewer_message(self, counted: Counted, guarded: Any) -> None:
        """A respond answer never runs the tool; the reviewer's message becomes the tool output."""
        shield = make_shield()
        agent = make_agent("function", guarded(shield), [call("read_inbox"), SEND, answer("ok")])
        handler = agent.run(user_msg=ASK)
        async for ev in handler.stream_events():
            if type(ev).__name__ == "ApprovalRequired":
                handler.ctx.send_event(ApprovalResponse.respond(ev, "Please call the boss instead.", reviewer="r"))
        await handler
        memory = await handler.ctx.store.get("memory")
        tool_texts = [m.content for m in await memory.aget_all() if m.role.value == "tool"]
        assert "Please call the boss instead." in tool_texts
        assert counted.count("send_email") == 0

    async def test_unanswered_approval_expires_to_denied(self, counted: Counted, guarded: Any) -> None:
        """No answer within the approval timeout denies the call; it never runs."""
        shield = make_shield()
        tools = guard_tools(counted.tools(), shield, approval_timeout=0.2)
        agent = make_agent("function", tools, [call("read_inbox"), SEND, answer("timed out")])
        handler = agent.run(user_msg=ASK)
        result = await asyncio.wait_for(handler, timeout=20)
        assert "timed out" in str(result)
        assert counted.count("send_email") == 0
        approvals = [r.body for r in shield.recorder.records() if r.kind == "approval"]
        assert approvals[0]["action"] == "block"
        assert approvals[0]["answers"][0]["reviewer"] == "airs:timeout"


class TestTaint:
    async def test_injected_result_taints_the_run_and_gates_the_external_call(
            self, kind: str, counted: Counted, guarded: Any) -> None:
        """Reading an injected tool result taints the run, so the next external call needs approval."""
        shield = make_shield()
        agent = make_agent(kind, guarded(shield), [call("read_inbox"), SEND, answer("sent")])
        handler = agent.run(user_msg=ASK)
        asked = []
        async for ev in handler.stream_events():
            if type(ev).__name__ == "ApprovalRequired":
                asked.append(ev)
                handler.ctx.send_event(ApprovalResponse.approve(ev, reviewer="alice"))
        await handler
        stored = await handler.ctx.store.get("airs_context")
        assert [o["source"] for o in stored["observations"]][:1] == ["read_inbox"]
        assert stored["observations"][0]["attack_categories"] == ["injection"]
        assert [f["check"] for f in asked[0].findings] == ["taint.flow"]
        assert asked[0].policy_hash == shield.policy_hash

    async def test_clean_run_needs_no_approval(self, counted: Counted, guarded: Any) -> None:
        """Without injected content the same external call runs without asking anyone."""
        counted.inbox_text = "Quarterly numbers attached."
        shield = make_shield()
        agent = make_agent("function", guarded(shield), [call("read_inbox"), SEND, answer("sent")])
        _, asked = await drive(agent, ASK)
        assert asked == []
        assert counted.count("send_email") == 1

    async def test_blocked_result_is_withheld_from_the_model(self, counted: Counted) -> None:
        """A tool result the guard blocks is replaced by an error before the model reads it."""
        shield = make_shield(marker=MarkerCheck(score=1.0, action=Action.BLOCK))
        agent = make_agent("function", guard_tools(counted.tools(), shield), [call("read_inbox"), answer("hm")])
        handler = agent.run(user_msg="read my mail")
        await handler
        memory = await handler.ctx.store.get("memory")
        tool_texts = [m.content or "" for m in await memory.aget_all() if m.role.value == "tool"]
        assert len(tool_texts) == 1
        assert MARKER not in tool_texts[0]
        assert "withheld" in tool_texts[0] or "blocked" in tool_texts[0]
        assert counted.count("read_inbox") == 1

    @pytest.mark.parametrize("verdict", ["approve", "reject", "respond"])
    async def test_result_needing_review_waits_for_a_reviewer(self, counted: Counted, kind: str,
                                                               verdict: str) -> None:
        """A result the guard sends to a human is read by nobody before the human answers: approve releases
        it, reject withholds it, respond puts the reviewer's words in its place. The tool runs once (its step
        re-runs after the answer). Before, it was withheld without asking anyone."""
        shield = make_shield(marker=MarkerCheck(score=1.0, action=Action.REQUIRE_APPROVAL))
        agent = make_agent(kind, guard_tools(counted.tools(), shield), [call("read_inbox"), answer("hm")])
        reply = {"approve": ApprovalResponse.approve,
                 "reject": lambda ev: ApprovalResponse.reject(ev, reason="phishing"),
                 "respond": lambda ev: ApprovalResponse.answer(ev, {"type": "respond",
                                                                    "message": "Inbox hidden by IT."})}[verdict]
        handler = agent.run(user_msg="read my mail")
        asked = []
        async for ev in handler.stream_events():
            if isinstance(ev, ApprovalRequired):
                asked.append(ev)
                handler.ctx.send_event(reply(ev))
        await handler
        assert counted.count("read_inbox") == 1
        assert len(asked) == 1 and asked[0].approval_request().channel == "tool_result"
        memory = await handler.ctx.store.get("memory")
        seen = " ".join(m.content or "" for m in await memory.aget_all())  # ReAct keeps results in its trace
        assert (MARKER in seen) == (verdict == "approve")
        assert ("Inbox hidden by IT." in seen) == (verdict == "respond")
        decisions = [r.body for r in shield.recorder.records() if r.kind == "decision"]
        assert [d["channel"] for d in decisions].count("tool_call") == 1  # decided once, not again on the re-run
        executions = [r.body for r in shield.recorder.records() if r.kind == "tool_execution"]
        assert len(executions) == 1


KEY = "test-key-for-exactly-once-0123456789"
STEPS = [call("read_inbox"), SEND, answer("sent")]


async def _pause(counted: Counted, shield: Any) -> str:
    """Run until the gated call asks for approval, then persist the signed context and stop."""
    from airs_plugins.llamaindex import save_context

    agent = make_agent("function", guard_tools(counted.tools(), shield), STEPS)
    handler = agent.run(user_msg=ASK)
    async for ev in handler.stream_events():
        if type(ev).__name__ == "ApprovalRequired":
            break
    blob = save_context(handler, key=KEY)
    await handler.cancel_run()
    return blob


async def _resume_and_approve(counted: Counted, shield: Any, blob: str) -> list[str]:
    """Restore the blob into a fresh agent, approve the pending call and return the tool outputs."""
    from airs_plugins.llamaindex import load_context, pending_approvals

    agent = make_agent("function", guard_tools(counted.tools(), shield), STEPS)
    ctx = load_context(agent, blob, key=KEY)
    (pending,) = await pending_approvals(ctx)
    handler = agent.run(ctx=ctx)
    handler.ctx.send_event(ApprovalResponse.approve(pending, reviewer="alice"))
    await handler
    memory = await handler.ctx.store.get("memory")
    return [m.content or "" for m in await memory.aget_all() if m.role.value == "tool"]


class TestExactlyOnce:
    async def test_recorded_execution_is_returned_not_rerun(self, counted: Counted, tmp_path: Any) -> None:
        """Resuming the same paused run twice (a retry after a crash) executes the approved call once."""
        ledger = tmp_path / "ledger.db"
        blob = await _pause(counted, make_shield(ledger=ledger))
        first = await _resume_and_approve(counted, make_shield(ledger=ledger), blob)
        second = await _resume_and_approve(counted, make_shield(ledger=ledger), blob)
        assert counted.count("send_email") == 1
        assert first == second
        assert first[-1] == "sent to boss@corp.example"

    async def test_unfinished_claim_is_not_rerun(self, counted: Counted) -> None:
        """A claim left running by a crash is reported as unknown, not executed again (at most once)."""
        from airs_plugins._ledger import MemoryLedger

        class CrashyLedger(MemoryLedger):
            """Claims never complete, as if the process died in the middle of every call."""

            def complete(self, *args: Any, **kwargs: Any) -> None:
                return None

        ledger = CrashyLedger()
        blob = await _pause(counted, make_shield(ledger=ledger))
        await _resume_and_approve(counted, make_shield(ledger=ledger), blob)
        second = await _resume_and_approve(counted, make_shield(ledger=ledger), blob)
        assert counted.count("send_email") == 1
        assert "outcome was never recorded" in second[-1]


class TestParallel:
    async def test_parallel_calls_keep_every_observation(self, counted: Counted, guarded: Any) -> None:
        """Three tool calls in one model turn each add their taint; none is lost to a race."""
        shield = make_shield()
        agent = make_agent("function", guarded(shield),
                           [[call("read_inbox"), call("read_inbox"), call("read_inbox")], answer("ok")])
        handler = agent.run(user_msg="read it three times")
        await handler
        stored = await handler.ctx.store.get("airs_context")
        assert counted.count("read_inbox") == 3
        assert len(stored["observations"]) == 3
        assert sum(stored["call_signatures"].values()) == 3

    async def test_inner_tool_that_waits_is_re_entered_once(self) -> None:
        """An inner tool that waits for its own workflow event is re-entered after it, and finishes once."""
        from llama_index.core.workflow import Context, HumanResponseEvent, InputRequiredEvent

        finished: list[str] = []

        async def ask_user(ctx: Context, question: str) -> str:
            """Ask the user something."""
            ev = await ctx.wait_for_event(HumanResponseEvent, waiter_event=InputRequiredEvent(prefix=question),
                                          timeout=5)
            finished.append(str(ev.response))
            return str(ev.response)

        ask_user.__annotations__["ctx"] = Context  # FunctionTool looks for the class, not its name as a string
        shield = make_shield()
        agent = make_agent("function", guard_tools([ask_user], shield),
                           [call("ask_user", question="ok?"), answer("gave up")])
        handler = agent.run(user_msg="ask")
        async for ev in handler.stream_events():
            if type(ev) is InputRequiredEvent:
                handler.ctx.send_event(HumanResponseEvent(response="yes"))
        await handler
        memory = await handler.ctx.store.get("memory")
        tool_texts = [m.content or "" for m in await memory.aget_all() if m.role.value == "tool"]
        assert tool_texts == ["yes"]
        assert finished == ["yes"]
        statuses = [r.body["status"] for r in shield.recorder.records() if r.kind == "tool_execution"]
        assert statuses == ["waiting", "success"]
