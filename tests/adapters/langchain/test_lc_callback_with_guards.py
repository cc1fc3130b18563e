"""``AIRSCallbackHandler`` on a run that an enforcing layer already guards (``AIRSMiddleware``, guarded
tools, ``SecureToolNode``): the handler records the events and leaves the decisions to that layer, so
every input, tool call, result and output gets one decision. Before, each got two (two audit records of
the same event, and a judge asked twice)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from airs_plugins.langchain import AIRSCallbackHandler
from contract.harness import FORBIDDEN, Executions, ToolFake, build, call, make_shield, new_config, script


def run(adapter: str, answer: str, mode: str) -> tuple[Any, Counter[str], int]:
    shield = make_shield()
    graph = build(adapter, shield, ToolFake(responses=script([call("lookup", {"q": "x"}, "c1")], answer)),
                  Executions(), InMemorySaver())
    config = {**new_config(), "callbacks": [AIRSCallbackHandler(shield)]}
    inputs = {"messages": [HumanMessage("look it up")]}
    out = asyncio.run(graph.ainvoke(inputs, config)) if mode == "ainvoke" else graph.invoke(inputs, config)
    records = list(shield.recorder.records())
    channels = Counter(r.body["channel"] for r in records if r.kind == "decision")
    return out, channels, sum(1 for r in records if r.kind == "callback")


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
def test_one_decision_per_event_next_to_the_middleware(mode: str) -> None:
    _out, channels, callback_events = run("middleware", "done", mode)
    assert channels == {"user_input": 1, "tool_call": 1, "tool_result": 1, "model_output": 1}
    assert callback_events > 0  # the handler still records what happened


@pytest.mark.parametrize("adapter", ["tools", "nodes"])
def test_one_tool_decision_next_to_guarded_tools_and_the_secure_tool_node(adapter: str) -> None:
    _out, channels, _events = run(adapter, "done", "invoke")
    assert channels["tool_call"] == 1 and channels["tool_result"] == 1


def test_the_middleware_still_stops_what_it_must() -> None:
    """Leaving the decision to the middleware changes nothing about the outcome: the answer is withheld
    (the middleware's refusal), not aborted by the handler."""
    out, channels, _events = run("middleware", f"the code is {FORBIDDEN}", "invoke")
    assert FORBIDDEN not in str(out["messages"][-1].content)
    assert channels["model_output"] == 1


def test_without_a_guard_the_handler_decides() -> None:
    """The handler alone (no middleware, plain tools) still decides every event."""
    shield = make_shield()
    graph = create_agent(ToolFake(responses=script([call("lookup", {"q": "x"}, "c1")], "done")),
                         Executions().tools(), checkpointer=InMemorySaver())
    graph.invoke({"messages": [HumanMessage("look it up")]},
                 {**new_config(), "callbacks": [AIRSCallbackHandler(shield)]})
    channels = Counter(r.body["channel"] for r in shield.recorder.records() if r.kind == "decision")
    assert channels["tool_call"] == 1 and channels["tool_result"] == 1 and channels["model_output"] >= 1


def test_what_a_guarded_tool_runs_inside_is_still_decided_by_the_handler() -> None:
    """The middleware covers the tool call and its result, not a chain the tool runs inside: the handler
    (inherited by that chain) still decides the inner model's input and output."""
    from langchain_core.messages import AIMessage
    from langchain_core.tools import tool

    from airs_plugins.langchain import AIRSMiddleware

    inner = ToolFake(responses=[AIMessage("a two-line summary")])

    @tool
    def summarize(text: str) -> str:
        """Summarize a text with a helper model."""
        return str(inner.invoke([HumanMessage(f"Summarize: {text}")]).content)

    shield = make_shield()
    graph = create_agent(ToolFake(responses=script([call("summarize", {"text": "long report"}, "c1")], "done")),
                         [summarize], middleware=[AIRSMiddleware(shield)], checkpointer=InMemorySaver())
    graph.invoke({"messages": [HumanMessage("summarize the report")]},
                 {**new_config(), "callbacks": [AIRSCallbackHandler(shield)]})
    decided = [r.body for r in shield.recorder.records() if r.kind == "decision"]
    channels = Counter(d["channel"] for d in decided)
    assert channels == {"user_input": 2, "tool_call": 1, "tool_result": 1, "model_output": 2}


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("how", ["args", "text"])
async def test_a_guarded_call_without_a_tool_call_id_is_decided_once(how: str, use_async: bool) -> None:
    """A legacy agent runs a tool as ``tool.run(text, callbacks=...)``, with no tool call id, which was all the
    handler looked for: it decided the call again and then the tool's raw result, and aborted the run on the
    injection the guarded tool had already withheld."""
    from airs_plugins.langchain import guard_tools

    shield = make_shield()
    handler = AIRSCallbackHandler(shield)
    (read_inbox,) = [t for t in guard_tools(Executions().tools(), shield) if t.name == "read_inbox"]
    if how == "args":
        config = {"callbacks": [handler]}
        out = await read_inbox.ainvoke({"folder": "in"}, config) if use_async else read_inbox.invoke(
            {"folder": "in"}, config)
    else:
        out = await read_inbox.arun("in", callbacks=[handler]) if use_async else read_inbox.run(
            "in", callbacks=[handler])
    assert "withheld" in out
    channels = Counter(r.body["channel"] for r in shield.recorder.records() if r.kind == "decision")
    assert channels == {"tool_call": 1, "tool_result": 1}
