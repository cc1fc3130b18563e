"""A resume value holding no decision (an empty list of answers) denies the call and the run goes on, with
every adapter. It used to raise IndexError out of the run, and again on every later resume of the task, since
LangGraph keeps the resume value with the paused task: the thread stayed stuck."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from contract.harness import ADAPTERS, Executions, ToolFake, assert_paired, build, call, make_shield, new_config, script


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_empty_list_of_answers_denies_the_call_and_the_run_goes_on(adapter: str) -> None:
    ex = Executions()
    shield = make_shield()
    graph = build(adapter, shield, ToolFake(responses=script([call("transfer", {"amount": 5, "to": "a"}, "c1")],
                                                             "done")), ex, InMemorySaver())
    config = new_config()
    (pending,) = graph.invoke({"messages": [HumanMessage("go")]}, config)["__interrupt__"]
    out = graph.invoke(Command(resume={pending.id: []}), config)
    assert ex.of("transfer") == []
    assert not out.get("__interrupt__") and out["messages"][-1].content == "done"
    answer = str(assert_paired(out["messages"])["c1"].content)
    assert "not executed" in answer and "cannot read the reviewer's answer" in answer
