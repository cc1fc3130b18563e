"""guard_tools: the BaseTool boundary keeps name and schema, enforces outside any graph, and keeps an
approved call to exactly one execution even inside a multi-call ToolNode that re-runs on resume."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.types import Command

from airs_plugins.langchain import AIRSMiddleware, GuardedTool, guard_tools
from contract.harness import EDITS, Executions, ToolFake, assert_paired, call, make_shield, new_config, script


def guarded() -> tuple[dict[str, Any], Executions, Any]:
    ex = Executions()
    shield = make_shield()
    return {t.name: t for t in guard_tools(ex.tools(), shield)}, ex, shield



def tool_call_decisions(shield: Any) -> list[str]:
    return [r.body["tool_call_id"] for r in shield.recorder.records()
            if r.kind == "decision" and r.body.get("channel") == "tool_call"]


def plain_tool_node_graph(model: Any, tools: dict[str, Any]) -> Any:
    """model → a plain multi-call ToolNode over the guarded tools → model, with a checkpointer."""

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("model", call_model)
    builder.add_node("tools", ToolNode(list(tools.values())))
    builder.add_edge(START, "model")
    builder.add_conditional_edges("model", tools_condition)
    builder.add_edge("tools", "model")
    return builder.compile(checkpointer=InMemorySaver())

def test_name_description_and_schema_are_preserved() -> None:
    """The wrapper exposes exactly the inner tool's name, description and argument schema."""
    ex = Executions()
    inner = {t.name: t for t in ex.tools()}
    for tool in guard_tools(list(inner.values()), make_shield()):
        assert isinstance(tool, GuardedTool)
        assert tool.name == inner[tool.name].name
        assert tool.description == inner[tool.name].description
        assert tool.tool_call_schema.model_json_schema() == inner[tool.name].tool_call_schema.model_json_schema()


def test_wrapping_twice_is_a_no_op() -> None:
    """Guarding an already guarded tool returns it unchanged (no double decisions)."""
    tools, _ex, shield = guarded()
    again = guard_tools(list(tools.values()), shield)
    assert [id(t) for t in again] == [id(t) for t in tools.values()]


def test_outside_a_graph_denied_and_gated_calls_do_not_run() -> None:
    """Called directly, a denied tool and a tool needing approval are refused (nobody to ask); others run."""
    tools, ex, _ = guarded()
    assert "denied by policy" in tools["delete_all"].invoke({"scope": "x"})
    refused = tools["send_email"].invoke({"to": "a@example.com", "body": "b"})
    assert "no human could be asked" in refused
    assert tools["lookup"].invoke({"q": "z"}) == "result for z"
    assert [n for n, _ in ex.log] == ["lookup"]


def test_a_tool_call_input_gets_a_tool_message() -> None:
    """Invoked with a ToolCall, the wrapper answers with one ToolMessage carrying the call id."""
    tools, ex, _ = guarded()
    msg = tools["delete_all"].invoke(call("delete_all", {"scope": "x"}, "c9"))
    assert isinstance(msg, ToolMessage)
    assert (msg.tool_call_id, msg.status) == ("c9", "error")
    ok = tools["lookup"].invoke(call("lookup", {"q": "y"}, "c10"))
    assert (ok.tool_call_id, ok.content) == ("c10", "result for y")
    assert [n for n, _ in ex.log] == ["lookup"]


async def test_async_direct_call_is_enforced() -> None:
    """The async path enforces the same decisions as the sync one."""
    tools, ex, _ = guarded()
    assert "denied by policy" in await tools["delete_all"].ainvoke({"scope": "x"})
    assert await tools["lookup"].ainvoke({"q": "w"}) == "result for w"
    assert [n for n, _ in ex.log] == ["lookup"]


def test_multi_call_tool_node_never_runs_an_approved_tool_twice() -> None:
    """In a plain ToolNode running several calls, the resume re-runs the whole node; the ledger replays
    the calls that already ran instead of executing them again (the 'approved tool ran twice' bug)."""
    tools, ex, shield = guarded()
    model = ToolFake(responses=script([call("lookup", {"q": "a"}, "c1"),
                                       call("send_email", {"to": "b@example.com", "body": "x"}, "c2")], "ok"))

    graph = plain_tool_node_graph(model, tools)
    config = new_config()
    out = graph.invoke({"messages": [HumanMessage("go")]}, config)
    (pending,) = out["__interrupt__"]
    assert pending.value["tool_name"] == "send_email"
    out = graph.invoke(Command(resume={"type": "approve"}), config)
    assert ex.of("lookup") == [{"q": "a"}]
    assert ex.of("send_email") == [{"to": "b@example.com", "body": "x"}]
    assert_paired(out["messages"])
    assert out["messages"][-1].content == "ok"
    # one decision per call: the re-run replays c1 and takes c2's kept decision
    assert sorted(tool_call_decisions(shield)) == ["c1", "c2"]


def test_guarded_tools_under_the_middleware_decide_once() -> None:
    """With both the middleware and guarded tools, each gated call is asked and executed once."""
    ex = Executions()
    shield = make_shield()
    model = ToolFake(responses=script([call("transfer", {"amount": 3, "to": "a"}, "c1")], "ok"))
    graph = create_agent(model, guard_tools(ex.tools(), shield), middleware=[AIRSMiddleware(shield)],
                         checkpointer=InMemorySaver())
    config = new_config()
    out = graph.invoke({"messages": [HumanMessage("pay")]}, config)
    assert len(out["__interrupt__"]) == 1
    out = graph.invoke(Command(resume={out["__interrupt__"][0].id: {"type": "approve"}}), config)
    assert "__interrupt__" not in out
    assert ex.of("transfer") == [{"amount": 3, "to": "a"}]
    assert isinstance(out["messages"][-1], AIMessage)


@pytest.mark.parametrize("attempt", range(5))
def test_two_gated_calls_in_one_tool_node_never_cross_wire_answers(attempt: int) -> None:
    """In one multi-call ToolNode step only one gated call may ask; it gets its own answer (its own
    edited args) and the other gated call is refused, never run with someone else's approval."""
    tools, ex, shield = guarded()
    model = ToolFake(responses=script([call("send_email", {"to": "b@example.com", "body": "x"}, "c1"),
                                       call("transfer", {"amount": 500, "to": "a"}, "c2")], "ok"))

    graph = plain_tool_node_graph(model, tools)
    config = new_config()
    out = graph.invoke({"messages": [HumanMessage("go")]}, config)
    asked = [i.value["tool_name"] for i in out["__interrupt__"]]
    assert len(asked) == 1
    out = graph.invoke(Command(resume={"type": "edit", "args": EDITS[asked[0]]}), config)
    assert "__interrupt__" not in out
    assert ex.log == [(asked[0], EDITS[asked[0]])]
    answers = assert_paired(out["messages"])
    other = "c2" if asked[0] == "send_email" else "c1"
    assert answers[other].status == "error"
    assert "one step can only ask about one call" in answers[other].content
    # each call decided once across the re-run; the edited call once more, on its edited arguments
    edited = "c1" if other == "c2" else "c2"
    assert sorted(tool_call_decisions(shield)) == sorted(["c1", "c2", edited])
