"""``AIRSMiddleware`` next to LangChain's built-in middleware, listed before and after each.

One turn calls an allowed tool, a denied one and one whose result carries an injection. Whatever else runs
around AIRS, the denied tool never runs, the injected text never reaches the model, every call gets
exactly one ToolMessage, and the run ends with the model's answer. (``HumanInTheLoopMiddleware``,
``ToolRetryMiddleware`` and ``SummarizationMiddleware`` have tests of their own.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents import middleware as lc
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from airs_plugins.langchain import AIRSMiddleware
from contract.harness import INJECT, Executions, ToolFake, assert_paired, call, make_shield, new_config, script

TURN = [call("lookup", {"q": "x"}, "c1"), call("delete_all", {"scope": "all"}, "c2"),
        call("read_inbox", {"folder": "in"}, "c3")]

BUILT_IN: dict[str, Callable[[], Any]] = {
    "ToolErrorMiddleware": lambda: lc.ToolErrorMiddleware(on_error=lambda exc, _request: f"tool failed: {exc}"),
    "ToolCallLimitMiddleware": lambda: lc.ToolCallLimitMiddleware(run_limit=10),
    "ModelRetryMiddleware": lc.ModelRetryMiddleware,
    "ModelFallbackMiddleware": lambda: lc.ModelFallbackMiddleware(ToolFake(responses=script(TURN, "done"))),
    "ModelCallLimitMiddleware": lambda: lc.ModelCallLimitMiddleware(run_limit=5),
    "ContextEditingMiddleware": lc.ContextEditingMiddleware,
    "PIIMiddleware": lambda: lc.PIIMiddleware("email", apply_to_tool_results=True, apply_to_output=True),
    "TodoListMiddleware": lc.TodoListMiddleware,
}


@pytest.mark.parametrize("order", ["airs-first", "airs-last"])
@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_enforcement_holds_next_to_built_in_middleware(name: str, order: str) -> None:
    ex, airs, other = Executions(), AIRSMiddleware(make_shield()), BUILT_IN[name]()
    graph = create_agent(ToolFake(responses=script(TURN, "done")), ex.tools(),
                         middleware=[airs, other] if order == "airs-first" else [other, airs],
                         checkpointer=InMemorySaver())
    out = graph.invoke({"messages": [HumanMessage("go")]}, new_config())
    assert ex.of("delete_all") == []
    assert sorted(n for n, _ in ex.log) == ["lookup", "read_inbox"]
    assert all(INJECT not in str(m.content) for m in out["messages"] if isinstance(m, ToolMessage))
    assert_paired(out["messages"])
    assert isinstance(out["messages"][-1], AIMessage) and out["messages"][-1].content == "done"


@pytest.mark.parametrize("order", ["airs-first", "airs-last"])
def test_an_emulated_tool_is_not_run_and_the_rest_is_still_enforced(order: str) -> None:
    """``LLMToolEmulator`` answers for ``lookup`` with a model instead of running it."""
    ex, airs = Executions(), AIRSMiddleware(make_shield())
    emulator = lc.LLMToolEmulator(tools=["lookup"], model=ToolFake(responses=[AIMessage("emulated")]))
    graph = create_agent(ToolFake(responses=script(TURN, "done")), ex.tools(),
                         middleware=[airs, emulator] if order == "airs-first" else [emulator, airs],
                         checkpointer=InMemorySaver())
    out = graph.invoke({"messages": [HumanMessage("go")]}, new_config())
    assert [n for n, _ in ex.log] == ["read_inbox"]
    assert assert_paired(out["messages"])["c1"].content == "emulated"
    assert out["messages"][-1].content == "done"
