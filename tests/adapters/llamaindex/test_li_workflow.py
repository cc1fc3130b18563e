"""AIRSWorkflow: input guard → agent → output guard + judge → approval, with real agents."""

from __future__ import annotations

from typing import Any

from _li_support import SEND, Counted, drive, make_agent, make_shield
from llama_index.core.workflow import Context, StartEvent, StopEvent, Workflow, step

from airs_plugins import Action, Channel, Finding, Shield, Subject
from airs_plugins.llamaindex import (
    AIRSWorkflow,
    ApprovalRequired,
    ApprovalResponse,
    GuardResult,
    guard_input,
    guard_tools,
    refusal_text,
)
from airs_plugins.llamaindex.testing import answer, call

JUDGE_ALWAYS = {"tiers": {"MEDIUM": {"judge_sampling": 1.0}}}


class BannedInput:
    """Test-only input check: blocks any message containing 'forbidden'."""

    id = "test.banned"
    channels = frozenset({Channel.USER_INPUT})
    maso = ()
    attack_categories = frozenset({"jailbreak"})

    def run(self, subject: Subject) -> list[Finding]:
        at = subject.payload.find("forbidden")
        if at < 0:
            return []
        return [Finding(check=self.id, category="jailbreak", score=1.0, spans=((at, at + 9),), attack=True,
                        action=Action.BLOCK)]


def _output_judge(verdict: str) -> Any:
    def judge(subject: Subject, findings: Any) -> dict[str, Any]:
        if subject.channel is Channel.MODEL_OUTPUT:
            return {"verdict": verdict, "confidence": 0.95, "rationale": f"judge says {verdict}"}
        return {"verdict": "pass", "confidence": 0.95}

    return judge


class TestAIRSWorkflow:
    async def test_blocked_input_never_reaches_the_agent(self) -> None:
        """A blocked user message stops the workflow before the agent or any tool runs."""
        counted = Counted()
        guarded_shield = Shield.from_policy({"checks": [{"id": "tool.policy"}]}, checks=[BannedInput()])
        agent = make_agent("function", guard_tools(counted.tools(), guarded_shield), [call("read_inbox")])
        result, asked = await drive(AIRSWorkflow(agent, guarded_shield), "do the forbidden thing")
        assert isinstance(result, GuardResult)
        assert (result.allowed, result.stage) == (False, "input")
        assert "stopped by AIRS" in str(result)
        assert counted.calls == []
        assert asked == []

    async def test_judge_review_pauses_the_answer_until_approved(self) -> None:
        """A judge 'review' on the draft answer asks a human; approval releases the answer."""
        counted = Counted()
        counted.inbox_text = "Quarterly numbers attached."
        shield = make_shield(policy=JUDGE_ALWAYS)
        agent = make_agent("function", guard_tools(counted.tools(), shield), [call("read_inbox"), answer("All good.")])
        result, asked = await drive(AIRSWorkflow(agent, shield, judge=_output_judge("review")), "read my mail",
                                    lambda ev: ApprovalResponse.approve(ev, reviewer="alice"))
        assert [a.request["channel"] for a in asked] == ["model_output"]
        assert asked[0].judge_rationale == "judge says review"
        assert (result.allowed, result.stage, str(result)) == (True, "approval", "All good.")

    async def test_judge_escalate_blocks_the_answer(self) -> None:
        """A judge 'escalate' replaces the answer with a refusal and asks nobody."""
        shield = make_shield(policy=JUDGE_ALWAYS)
        agent = make_agent("function", guard_tools(Counted().tools(), shield), [answer("Here is the secret.")])
        result, asked = await drive(AIRSWorkflow(agent, shield, judge=_output_judge("escalate")), "hi")
        assert asked == []
        assert result.allowed is False
        assert "secret" not in str(result)
        assert result.decision["layer"] == "judge"

    async def test_rejected_answer_is_withheld(self) -> None:
        """A reviewer's rejection of the draft answer returns a refusal, not the answer."""
        shield = make_shield(policy=JUDGE_ALWAYS)
        agent = make_agent("function", guard_tools(Counted().tools(), shield), [answer("Draft text.")])
        result, _ = await drive(AIRSWorkflow(agent, shield, judge=_output_judge("review")), "hi",
                                lambda ev: ApprovalResponse.reject(ev, reviewer="rita", reason="no"))
        assert result.allowed is False
        assert "Draft text." not in str(result)

    async def test_tool_approval_inside_the_agent_is_forwarded(self, kind: str) -> None:
        """A guarded tool's approval request reaches the outer stream and the outer answer releases it once."""
        counted = Counted()
        shield = make_shield()
        agent = make_agent(kind, guard_tools(counted.tools(), shield), [call("read_inbox"), SEND, answer("sent")])
        result, asked = await drive(AIRSWorkflow(agent, shield), "send my mail to boss@corp.example",
                                    lambda ev: ApprovalResponse.approve(ev, reviewer="alice"))
        assert [a.tool_name for a in asked] == ["send_email"]
        assert counted.count("send_email") == 1
        assert result.allowed is True
        assert "sent" in str(result)

    async def test_agent_events_and_plain_input_requests_pass_through(self) -> None:
        """The agent's tool results show on the outer stream, and its own input request is answered there."""
        from llama_index.core.agent.workflow import ToolCallResult
        from llama_index.core.workflow import HumanResponseEvent, InputRequiredEvent

        async def ask_user(ctx: Context, question: str) -> str:
            """Ask the user something."""
            ev = await ctx.wait_for_event(HumanResponseEvent, waiter_event=InputRequiredEvent(prefix=question),
                                          timeout=10)
            return f"user said {ev.response}"

        ask_user.__annotations__["ctx"] = Context  # FunctionTool looks for the class, not a string
        shield = make_shield()
        agent = make_agent("function", guard_tools([ask_user], shield), [call("ask_user", question="ok?"),
                                                                         answer("thanks")])
        handler = AIRSWorkflow(agent, shield).run(user_msg="ask me")
        results = []
        async for ev in handler.stream_events():
            if type(ev) is InputRequiredEvent:
                handler.ctx.send_event(HumanResponseEvent(response="yes"))
            elif isinstance(ev, ToolCallResult):
                results.append(str(ev.tool_output.content))
        assert str(await handler) == "thanks"
        assert results == ["user said yes"]

    async def test_taint_from_the_agent_reaches_the_outer_context(self) -> None:
        """Taint recorded by the agent's guarded tools is carried back into the workflow's RunContext."""
        counted = Counted()
        shield = make_shield()
        agent = make_agent("function", guard_tools(counted.tools(), shield), [call("read_inbox"), answer("ok")])
        workflow = AIRSWorkflow(agent, shield)
        handler = workflow.run(user_msg="read my mail")
        await handler
        stored = await handler.ctx.store.get("airs_context")
        assert [o["source"] for o in stored["observations"]] == ["read_inbox"]
        assert stored["user_goal"] == "read my mail"

    async def test_memory_carries_across_turns(self) -> None:
        """A second run on the same context continues the agent's conversation."""
        shield = make_shield()
        agent = make_agent("function", guard_tools(Counted().tools(), shield), [answer("first"), answer("second")])
        workflow = AIRSWorkflow(agent, shield)
        h1 = workflow.run(user_msg="one")
        assert str(await h1) == "first"
        h2 = workflow.run(user_msg="two", ctx=h1.ctx)
        assert str(await h2) == "second"


class TestWorkflowPersistence:
    async def test_answer_approval_survives_save_and_restore(self) -> None:
        """A workflow paused on an answer approval is saved signed, restored, answered and completes."""
        from airs_plugins.llamaindex import load_context, pending_approvals, save_context

        key = "workflow-restore-key-0123456789"
        shield = make_shield(policy=JUDGE_ALWAYS)
        judge = _output_judge("review")
        first = AIRSWorkflow(make_agent("function", [], [answer("Draft.")]), shield, judge=judge)
        handler = first.run(user_msg="hi")
        async for ev in handler.stream_events():
            if isinstance(ev, ApprovalRequired):
                break
        blob = save_context(handler, key=key)
        await handler.cancel_run()
        second = AIRSWorkflow(make_agent("function", [], [answer("Draft.")]), shield, judge=judge)
        ctx = load_context(second, blob, key=key)
        (pending,) = await pending_approvals(ctx)
        assert pending.request["channel"] == "model_output"
        resumed = second.run(ctx=ctx)
        resumed.ctx.send_event(ApprovalResponse.approve(pending, reviewer="alice"))
        result = await resumed
        assert (str(result), result.allowed) == ("Draft.", True)


class TestSteps:
    async def test_guard_input_works_inside_a_user_workflow(self) -> None:
        """The step helpers drop into any workflow and keep the RunContext in its store."""
        shield = Shield.from_policy({"checks": [{"id": "tool.policy"}]}, checks=[BannedInput()])

        class Mine(Workflow):
            @step
            async def start(self, ctx: Context, ev: StartEvent) -> StopEvent:
                d = await guard_input(ctx, shield, ev.get("user_msg"))
                return StopEvent(result=refusal_text(d) if d.blocked else "ok")

        assert await Mine(timeout=30).run(user_msg="hello") == "ok"
        refused = await Mine(timeout=30).run(user_msg="forbidden")
        assert "stopped by AIRS" in refused

    async def test_approval_event_round_trips_the_core_models(self) -> None:
        """ApprovalRequired carries the ApprovalRequest JSON and ApprovalResponse the ApprovalDecision."""
        shield = make_shield(policy={"tools": {"send_email": {"require_approval": True}}})
        d = shield.check_tool_call("send_email", {"to": "a@b.example"})
        req = shield.approval_request(d, tool_args={"to": "a@b.example"})
        ev = ApprovalRequired.from_request(req)
        assert ev.approval_request() == req
        assert ev.tool_args == {"to": "a@b.example"}
        resp = ApprovalResponse.answer(ev, {"decisions": [{"type": "edit", "edited_action": {
            "name": "send_email", "args": {"to": "c@d.example"}}}]})
        assert (resp.type, resp.args, resp.request_id) == ("edit", {"to": "c@d.example"}, req.id)
        final = shield.resolve_approval(req, resp.decision())
        assert final.redacted_args == {"to": "c@d.example"}
        # an edit naming another tool keeps that name through the event, so it is refused, not run as send_email
        redirect = ApprovalResponse.answer(ev, {"decisions": [{"type": "edit", "edited_action": {
            "name": "post_message", "args": {"to": "c@d.example"}}}]})
        assert redirect.name == "post_message"
        assert shield.resolve_approval(req, redirect.decision()).blocked


class TestStreamBeforeGuard:
    @staticmethod
    async def streamed(stream_before_guard: bool) -> tuple[Any, list[Any]]:
        shield = make_shield(policy=JUDGE_ALWAYS)
        agent = make_agent("function", guard_tools(Counted().tools(), shield), [answer("Here is the secret.")])
        flow = AIRSWorkflow(agent, shield, judge=_output_judge("escalate"), stream_before_guard=stream_before_guard)
        handler = flow.run(user_msg="hi")
        events = [ev async for ev in handler.stream_events()]
        return await handler, events

    async def test_blocked_answer_is_not_on_the_stream(self) -> None:
        """By default the agent's model events are not forwarded: the blocked answer reaches the caller
        neither as tokens nor as the agent's output, only the refusal comes back."""
        result, events = await self.streamed(False)
        assert not result.allowed and "secret" not in str(result)
        assert not any("Here is the secret" in repr(ev) for ev in events)

    async def test_opt_in_streams_the_model_before_the_guard(self) -> None:
        """``stream_before_guard=True`` forwards the model's events, the blocked answer's included."""
        result, events = await self.streamed(True)
        assert not result.allowed
        assert any("Here is the secret" in repr(ev) for ev in events)
