"""``AIRSMiddleware`` next to LangChain's ``HumanInTheLoopMiddleware``, in either order.

A reviewer in ``HumanInTheLoopMiddleware`` may edit a call (other arguments, or another tool) after AIRS
decided the original. Before, the edited call ran on the original's decision: with AIRS listed first, the
edit happened inside AIRS's enforcement and was never seen; with AIRS listed second, a decision made for
one tool authorised another one with the same id and arguments (a tool denied by policy ran).
Now AIRS listed second decides the edited call itself, and AIRS listed first refuses to run a call other
than the one it decided (fail closed, with a message saying how to list the middleware)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain.tools import ToolRuntime
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from airs_plugins.langchain import AIRSMiddleware
from airs_plugins.langchain._pinned import CallChangedError, Pin
from contract.harness import POLICY, ToolFake, assert_paired, call, make_shield, new_config, script

ORIGINAL = {"channel": "#general", "text": "hi"}
EDITED = {"channel": "#ops", "text": "edited"}


class Tools:
    def __init__(self) -> None:
        self.runs: list[tuple[str, dict[str, Any]]] = []

    def all(self) -> list[BaseTool]:
        @tool
        def post_message(channel: str, text: str) -> str:
            """Post a message to a channel."""
            self.runs.append(("post_message", {"channel": channel, "text": text}))
            return "posted"

        @tool
        def delete_all(channel: str, text: str) -> str:
            """Delete every message of a channel (denied by the test policy)."""
            self.runs.append(("delete_all", {"channel": channel, "text": text}))
            return "deleted"

        return [post_message, delete_all]


def edit(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"decisions": [{"type": "edit", "edited_action": {"name": name, "args": args}}]}


APPROVE = {"decisions": [{"type": "approve"}]}
REJECT = {"decisions": [{"type": "reject", "message": "not now"}]}


def run(order: str, answer: dict[str, Any], *, use_async: bool = False,
        mode: str = "batched") -> tuple[Tools, Any, dict[str, ToolMessage]]:
    tools, shield = Tools(), make_shield()
    hitl = HumanInTheLoopMiddleware(interrupt_on={"post_message": True}, interrupt_mode=mode)  # type: ignore[arg-type]
    airs = AIRSMiddleware(shield)
    agent = create_agent(ToolFake(responses=script([call("post_message", ORIGINAL, "c1")], "done")), tools.all(),
                         middleware=[hitl, airs] if order == "hitl-first" else [airs, hitl],
                         checkpointer=InMemorySaver())
    config = new_config()
    start = {"messages": [HumanMessage("post a greeting")]}
    if use_async:
        async def both() -> Any:
            first = await agent.ainvoke(start, config)
            assert first.get("__interrupt__")
            return await agent.ainvoke(Command(resume=answer), config)

        out = asyncio.run(both())
    else:
        assert agent.invoke(start, config).get("__interrupt__")
        out = agent.invoke(Command(resume=answer), config)
    assert not out.get("__interrupt__")
    return tools, shield, assert_paired(out["messages"])


def decided(shield: Any) -> list[tuple[str, str]]:
    return [(r.body["tool_name"], r.body["action"]) for r in shield.recorder.records()
            if r.kind == "decision" and r.body["channel"] == "tool_call"]


@pytest.mark.parametrize("order", ["hitl-first", "airs-first"])
def test_an_approved_call_runs_once_on_its_decision(order: str) -> None:
    tools, shield, answers = run(order, APPROVE)
    assert tools.runs == [("post_message", ORIGINAL)]
    assert answers["c1"].content == "posted"
    assert decided(shield) == [("post_message", "allow")]


@pytest.mark.parametrize("order", ["hitl-first", "airs-first"])
def test_a_rejected_call_never_runs(order: str) -> None:
    tools, _shield, answers = run(order, REJECT)
    assert tools.runs == []
    assert answers["c1"].status == "error"


@pytest.mark.parametrize("use_async", [False, True])
def test_listed_second_airs_decides_the_edited_call(use_async: bool) -> None:
    tools, shield, answers = run("hitl-first", edit("post_message", EDITED), use_async=use_async)
    assert tools.runs == [("post_message", EDITED)]
    assert decided(shield) == [("post_message", "allow"), ("post_message", "allow")]  # the original, the edit
    assert "posted" in str(answers["c1"].content)


@pytest.mark.parametrize("use_async", [False, True])
def test_listed_second_airs_blocks_a_redirect_to_a_denied_tool(use_async: bool) -> None:
    """Same call id, same arguments, another tool: before, the denied tool ran on post_message's decision."""
    tools, shield, answers = run("hitl-first", edit("delete_all", ORIGINAL), use_async=use_async)
    assert tools.runs == []
    assert ("delete_all", "block") in decided(shield)
    assert answers["c1"].status == "error" and "denied by policy" in str(answers["c1"].content)


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("answer", [edit("post_message", EDITED), edit("delete_all", ORIGINAL)],
                         ids=["other-arguments", "other-tool"])
def test_listed_first_airs_refuses_a_call_changed_inside_it(answer: dict[str, Any], use_async: bool) -> None:
    """The edit happens inside AIRS's enforcement, after its decision: the changed call does not run, and the
    message says how to list the middleware. Before, the edited call (the denied tool too) ran unchecked."""
    tools, shield, answers = run("airs-first", answer, use_async=use_async)
    assert tools.runs == []
    message = answers["c1"]
    assert message.status == "error" and "List AIRSMiddleware after that middleware" in str(message.content)
    (execution,) = [r.body for r in shield.recorder.records() if r.kind == "tool_execution"]
    assert execution["executed"] is False and execution["outcome"] == "changed after the decision"


@pytest.mark.parametrize("order", ["hitl-first", "airs-first"])
def test_per_call_reviews_are_covered_the_same_way(order: str) -> None:
    """``interrupt_mode="per_call"`` asks inside ``wrap_tool_call``, so the edit is applied there too."""
    tools, shield, answers = run(order, {"type": "edit", "edited_action": {"name": "post_message", "args": EDITED}},
                                 mode="per_call")
    if order == "hitl-first":
        assert tools.runs == [("post_message", EDITED)]
        assert decided(shield)[-1] == ("post_message", "allow")
    else:
        assert tools.runs == [] and "List AIRSMiddleware after" in str(answers["c1"].content)


def test_a_pin_refuses_other_calls_and_ignores_injected_arguments() -> None:
    @tool
    def post_message(channel: str, text: str) -> str:
        """Post a message to a channel."""
        return "posted"

    pin = Pin("post_message", dict(ORIGINAL))
    as_call = {"name": "post_message", "id": "c1", "type": "tool_call"}
    pin.check(post_message, {**as_call, "args": dict(ORIGINAL)})
    with pytest.raises(CallChangedError, match="arguments"):
        pin.check(post_message, {**as_call, "args": {**ORIGINAL, "text": "other"}})
    with pytest.raises(CallChangedError, match="arguments"):
        pin.check(post_message, {**as_call, "args": {"channel": "#general"}})  # one dropped
    # an argument the model cannot set (ToolNode injects state or the runtime) is not a change...
    Pin("post_message", {"channel": "#general"}).check(post_message, {**as_call, "args": {"channel": "#general",
                                                                                           "state": {}}})
    # ...one it can set is
    with pytest.raises(CallChangedError, match="arguments"):
        Pin("post_message", {"channel": "#general"}).check(post_message, {**as_call, "args": dict(ORIGINAL)})
    with pytest.raises(CallChangedError, match="redirected"):
        pin.check(post_message, {**as_call, "name": "delete_all", "args": dict(ORIGINAL)})


def test_a_refusal_turned_into_a_message_by_the_tool_node_is_still_a_refusal() -> None:
    """``ToolNode(handle_tool_errors=True)`` turns any exception into an error message, the pin's refusal too;
    the middleware still reports the call as refused (not run), not as a tool that answered."""
    pin = Pin("post_message", dict(ORIGINAL))
    with pytest.raises(CallChangedError):
        pin.check(object(), {"name": "post_message", "type": "tool_call", "args": {"channel": "#x", "text": ""}})
    with pytest.raises(CallChangedError):
        pin.settled(ToolMessage("Error: CallChangedError(...)", tool_call_id="c1", status="error"))
    assert Pin("post_message", {}).settled("out") == "out"


def test_a_tool_may_still_run_other_tools_itself() -> None:
    """A tool given the runtime can run another of the agent's tools itself (not a call AIRS decides, as
    without AIRS); the pin only refuses a call run *in place of* the decided one."""
    looked_up: list[str] = []

    @tool
    def lookup(q: str) -> str:
        """Look something up."""
        looked_up.append(q)
        return f"about {q}"

    @tool
    def brief(topic: str, runtime: ToolRuntime) -> str:
        """Write a brief on a topic, from a lookup."""
        found = next(t for t in runtime.tools if t.name == "lookup")
        return f"brief: {found.invoke({'q': topic})}"

    shield = make_shield()
    agent = create_agent(ToolFake(responses=script([call("brief", {"topic": "tides"}, "c1")], "done")),
                         [lookup, brief], middleware=[AIRSMiddleware(shield)], checkpointer=InMemorySaver())
    out = agent.invoke({"messages": [HumanMessage("brief me")]}, new_config())
    assert assert_paired(out["messages"])["c1"].content == "brief: about tides"
    assert looked_up == ["tides"]


def test_airs_reads_its_answer_once_when_a_middleware_inside_it_asks_too() -> None:
    """AIRS listed first asks about the call; ``per_call`` HITL then asks inside AIRS's enforcement, which
    re-runs the task on its answer. The re-run takes AIRS's resolved decision: one approval record. Before,
    AIRS resolved its answer again (a second record, and a deadline judged anew)."""
    tools = Tools()
    policy = {**POLICY, "tools": {**POLICY["tools"], "post_message": {"side_effect": "external",
                                                                       "require_approval": True}}}
    shield = make_shield(policy=policy)
    hitl = HumanInTheLoopMiddleware(interrupt_on={"post_message": True}, interrupt_mode="per_call")
    agent = create_agent(ToolFake(responses=script([call("post_message", ORIGINAL, "c1")], "done")), tools.all(),
                         middleware=[AIRSMiddleware(shield), hitl], checkpointer=InMemorySaver())
    config = new_config()
    (asked,) = agent.invoke({"messages": [HumanMessage("post a greeting")]}, config)["__interrupt__"]
    assert asked.value["tool_name"] == "post_message"
    (hitl_asked,) = agent.invoke(Command(resume={"type": "approve", "reviewer": "ann"}), config)["__interrupt__"]
    assert hitl_asked.value["type"] == "tool_approval"
    out = agent.invoke(Command(resume={"type": "approve"}), config)
    assert tools.runs == [("post_message", ORIGINAL)]
    assert assert_paired(out["messages"])["c1"].content == "posted"
    assert [(r.body["request_id"], r.body["action"]) for r in shield.recorder.records()
            if r.kind == "approval"] == [(asked.value["id"], "allow")]
