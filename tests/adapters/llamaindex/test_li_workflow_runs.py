"""AIRSWorkflow runs keep their answers: two runs of one workflow (as a server keeps it) never take each
other's answers, an answer the run does not wait on is refused on the stream, and a run saved while a tool
inside the agent waits for a reviewer is restored at that wait."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _li_support import GATED, SEND, Counted, make_agent, make_shield
from llama_index.core.agent.workflow import ToolCallResult
from llama_index.core.workflow import Context, HumanResponseEvent, InputRequiredEvent

from airs_plugins import Action, Channel, Finding, Severity, Shield, Subject
from airs_plugins.llamaindex import (
    AIRSWorkflow,
    ApprovalRefused,
    ApprovalRequired,
    ApprovalResponse,
    guard_tools,
    load_context,
    pending_approvals,
    save_context,
)
from airs_plugins.llamaindex.testing import answer, call

KEY = "workflow-runs-key-0123456789abcdef"


async def first_event(handler: Any, kind: type) -> Any:
    async for ev in handler.stream_events():
        if type(ev) is kind:
            return ev
    raise AssertionError(f"no {kind.__name__}")  # pragma: no cover


class TestConcurrentRuns:
    async def test_an_answer_on_another_runs_handler_is_refused(self) -> None:
        """Run B is sent run A's request id: B refuses it on its stream and A's call does not run; A's own
        answer on A's handler then runs it. Before, B's handler released A's call."""
        counted = Counted()
        shield = make_shield(policy=GATED)
        workflow = AIRSWorkflow(make_agent("function", guard_tools(counted.tools(), shield),
                                           [SEND, answer("done")]), shield)
        run_a = workflow.run(user_msg="mail the boss")
        run_b = workflow.run(user_msg="mail the boss")
        asked_a = await first_event(run_a, ApprovalRequired)
        asked_b = await first_event(run_b, ApprovalRequired)
        assert asked_a.request_id != asked_b.request_id
        run_b.ctx.send_event(ApprovalResponse.approve(asked_a, reviewer="mallory"))
        refused = await asyncio.wait_for(first_event(run_b, ApprovalRefused), 10)
        assert refused.request_id == asked_a.request_id
        assert counted.count("send_email") == 0
        run_a.ctx.send_event(ApprovalResponse.approve(asked_a, reviewer="alice"))
        assert str(await asyncio.wait_for(run_a, 20)) == "done"
        assert counted.count("send_email") == 1
        await run_b.cancel_run()
        refusals = [r.body for r in shield.recorder.records() if r.kind == "approval_refused"]
        assert [(b["request_id"], b["reviewer"]) for b in refusals] == [(asked_a.request_id, "mallory")]

    async def test_a_plain_input_answer_reaches_its_own_run(self) -> None:
        """Each run's tool asks the user; the answer given on run A's handler reaches run A's tool. Before,
        both runs shared one slot and A's answer went to B."""
        answers: list[tuple[str, str]] = []

        async def ask_user(ctx: Context, question: str) -> str:
            """Ask the user something."""
            ev = await ctx.wait_for_event(HumanResponseEvent, waiter_event=InputRequiredEvent(prefix=question),
                                          timeout=10)
            answers.append((str(await ctx.store.get("user_msg_str")), str(ev.response)))
            return str(ev.response)

        ask_user.__annotations__["ctx"] = Context  # FunctionTool looks for the class, not a string
        shield = make_shield()
        workflow = AIRSWorkflow(make_agent("function", guard_tools([ask_user], shield),
                                           [call("ask_user", question="PIN?"), answer("ok")]), shield)
        run_a = workflow.run(user_msg="alice")
        await first_event(run_a, InputRequiredEvent)
        run_b = workflow.run(user_msg="bob")
        await first_event(run_b, InputRequiredEvent)
        run_a.ctx.send_event(HumanResponseEvent(response="alice's answer"))
        assert str(await asyncio.wait_for(run_a, 20)) == "ok"
        assert answers == [("alice", "alice's answer")]
        await run_b.cancel_run()


class TestUnknownAnswer:
    async def test_an_answer_to_no_request_of_the_run_is_refused_not_dropped(self) -> None:
        counted = Counted()
        shield = make_shield(policy=GATED)
        workflow = AIRSWorkflow(make_agent("function", guard_tools(counted.tools(), shield),
                                           [SEND, answer("done")]), shield)
        handler = workflow.run(user_msg="mail the boss")
        asked = await first_event(handler, ApprovalRequired)
        handler.ctx.send_event(ApprovalResponse.approve("apr-nope", reviewer="alice"))
        refused = await asyncio.wait_for(first_event(handler, ApprovalRefused), 10)
        assert refused.request_id == "apr-nope" and "not waiting on that request" in refused.reason
        handler.ctx.send_event(ApprovalResponse.approve(asked, reviewer="alice"))
        assert str(await asyncio.wait_for(handler, 20)) == "done"
        assert counted.count("send_email") == 1


class TestRestoreAtAToolsWait:
    @pytest.mark.parametrize("elsewhere", [False, True])
    async def test_the_original_request_is_listed_and_its_answer_resumes_the_call(
            self, elsewhere: bool, monkeypatch: Any) -> None:
        """Saved while a guarded tool inside the agent waits: pending_approvals lists that request, and
        answering it after a restore runs the call once, without asking again or starting the agent over.
        Before, the list was empty, the answer was dropped and the agent re-ran from the user's message."""
        counted = Counted()
        model_calls: list[int] = []

        def build() -> AIRSWorkflow:
            shield = make_shield(policy=GATED)
            agent = make_agent("function", guard_tools(counted.tools(), shield), [SEND, answer("done")])
            script = agent.llm.response_generator
            agent.llm.response_generator = lambda messages, **kw: (model_calls.append(1), script(messages, **kw))[1]
            return AIRSWorkflow(agent, shield)

        handler = build().run(user_msg="mail the boss")
        asked = await first_event(handler, ApprovalRequired)
        assert [p.request_id for p in await pending_approvals(handler)] == [asked.request_id]
        blob = save_context(handler, key=KEY)
        await handler.cancel_run()
        assert len(model_calls) == 1

        if elsewhere:  # restored where another key seals the agent's kept context (another process)
            from airs_plugins.llamaindex import _persist

            monkeypatch.setattr(_persist, "_PROCESS_KEY", b"another process key 0123456789ab", raising=False)
        workflow = build()
        ctx = load_context(workflow, blob, key=KEY)
        assert [p.request_id for p in await pending_approvals(ctx)] == [asked.request_id]
        resumed = workflow.run(ctx=ctx)
        resumed.ctx.send_event(ApprovalResponse.approve(asked, reviewer="alice"))
        again: list[str] = []
        results: list[str] = []
        async for ev in resumed.stream_events():
            if isinstance(ev, ApprovalRequired):
                again.append(ev.request_id)
                resumed.ctx.send_event(ApprovalResponse.reject(ev, reviewer="alice"))
            elif isinstance(ev, ToolCallResult):
                results.append(str(ev.tool_output.content))
        result = await asyncio.wait_for(resumed, 20)
        assert (str(result), result.allowed) == ("done", True)
        assert again == []
        assert results == ["sent to boss@corp.example"]
        assert counted.args_of("send_email") == [{"to": "boss@corp.example", "body": "summary"}]
        assert len(model_calls) == 2  # the answer after the call, not the whole run again
        assert await pending_approvals(resumed) == []


UNPICKLED: list[str] = []


def _ran() -> None:
    UNPICKLED.append("ran")


class _Payload:
    """What a forged pickle would run."""

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return _ran, ()


async def _two_turns(workflow: AIRSWorkflow) -> Any:
    first = workflow.run(user_msg="one")
    assert str(await first) == "first"
    return first


def _memory_flow() -> AIRSWorkflow:
    shield = make_shield()
    return AIRSWorkflow(make_agent("function", guard_tools(Counted().tools(), shield),
                                   [answer("first"), answer("second")]), shield)


class TestKeptAgentContext:
    """AIRSWorkflow keeps its agent's context (pickled memory) in the run's store. A run persisted as plain JSON
    (``JsonSerializer``, which unpickles nothing itself) and restored without ``load_context`` carried it unsigned,
    and the next run unpickled whatever it held: code chosen by whoever could edit the stored run."""

    async def test_a_forged_agent_context_is_refused_before_unpickling(self) -> None:
        import base64
        import json
        import pickle

        from llama_index.core.workflow import JsonSerializer

        from airs_plugins.llamaindex import SignatureError

        workflow = _memory_flow()
        first = await _two_turns(workflow)
        data = json.loads(json.dumps(first.ctx.to_dict(serializer=JsonSerializer())))
        values = data["state"]["state_data"]["_data"]
        kept = json.loads(values["airs_agent_ctx"])
        agent_ctx = json.loads(json.loads(kept)["payload"]) if isinstance(kept, str) else kept
        agent_data = agent_ctx["state"]["state_data"]["_data"]
        agent_data[next(iter(agent_data))] = base64.b64encode(pickle.dumps(_Payload())).decode()
        for forged in (agent_ctx, json.dumps(agent_ctx)):  # as it was kept before, and as a bare string
            values["airs_agent_ctx"] = json.dumps(forged)
            ctx = Context.from_dict(workflow, data, serializer=JsonSerializer())
            UNPICKLED.clear()
            with pytest.raises(SignatureError, match="not sealed by this process"):
                await workflow.run(user_msg="two", ctx=ctx)
            assert UNPICKLED == []

    async def test_load_context_carries_the_agent_memory_to_another_process(self, monkeypatch: Any) -> None:
        """Saved with save_context and loaded with load_context where another key seals (another process), the
        agent goes on with its memory; restored any other way there, its kept context is refused."""
        from airs_plugins.llamaindex import SignatureError, _persist

        workflow = _memory_flow()
        first = await _two_turns(workflow)
        blob = save_context(first, key=KEY)
        plain = first.ctx.to_dict(serializer=_persist.JsonPickleSerializer())
        monkeypatch.setattr(_persist, "_PROCESS_KEY", b"another process key 0123456789ab", raising=False)
        restored = load_context(workflow, blob, key=KEY)
        assert str(await workflow.run(user_msg="two", ctx=restored)) == "second"
        unsigned = Context.from_dict(workflow, plain, serializer=_persist.JsonPickleSerializer())
        with pytest.raises(SignatureError, match="not sealed by this process"):
            await workflow.run(user_msg="two", ctx=unsigned)


_API_KEY = "sk-live-4f9a8b7c6d5e"


class _KeyNeedsReview:
    """A secret in a tool call that a human must look at (the request shows it masked)."""

    id = "test.key_review"
    channels = frozenset({Channel.TOOL_CALL})
    maso = ("DP-2.1",)
    attack_categories = frozenset()

    def run(self, subject: Subject) -> list[Finding]:
        at = subject.payload.find(_API_KEY)
        if at < 0:
            return []
        return [Finding(check=self.id, category="secret", severity=Severity.HIGH, score=0.95,
                        spans=((at, at + len(_API_KEY)),), message="api key", action=Action.REQUIRE_APPROVAL,
                        redact_label="[SECRET:api_key]")]


class TestApprovedUnderAChangedPolicy:
    @pytest.mark.parametrize(("body", "sent"), [({"not": {"pattern": "sk-live-"}}, 0),
                                                ({"pattern": "^[A-Za-z0-9 ,.-]*$"}, 1)])
    async def test_the_call_is_rechecked_on_the_arguments_it_runs_with(self, body: dict[str, Any],
                                                                       sent: int) -> None:
        """Saved while a call carrying a key waits for a reviewer, restored under a changed policy, and approved:
        the re-check under the new policy read the request's arguments, where the key is masked. A policy that
        forbids keys in a mail body found nothing wrong and the mail went out with the key; one that asks for a
        body in plain words refused the label's brackets, which the mail never held. The call's own arguments
        decide now."""
        counted = Counted()
        send = call("send_email", to="boss@corp.example", body=f"the key is {_API_KEY}")

        def build(**rule: Any) -> AIRSWorkflow:
            tools = {"send_email": {"side_effect": "external", "args_schema": {
                "type": "object", "properties": {"body": {"type": "string", **rule}}}}}
            shield = Shield.from_policy({"checks": [{"id": "tool.policy"}], "tools": tools},
                                        checks=[_KeyNeedsReview()])
            return AIRSWorkflow(make_agent("function", guard_tools(counted.tools(), shield),
                                           [send, answer("done")]), shield)

        handler = build().run(user_msg="mail the boss")
        asked = await first_event(handler, ApprovalRequired)
        assert _API_KEY not in str(asked.tool_args)
        blob = save_context(handler, key=KEY)
        await handler.cancel_run()

        workflow = build(**body)
        resumed = workflow.run(ctx=load_context(workflow, blob, key=KEY))
        resumed.ctx.send_event(ApprovalResponse.approve(asked, reviewer="alice"))
        results = [str(ev.tool_output.content) async for ev in resumed.stream_events()
                   if isinstance(ev, ToolCallResult)]
        await asyncio.wait_for(resumed, 20)
        assert counted.count("send_email") == sent
        assert len(results) == 1
        assert ("blocks the call" in results[0]) is (sent == 0)
