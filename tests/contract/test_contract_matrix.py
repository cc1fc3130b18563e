"""Acceptance matrix: {middleware, graph nodes, guarded tools} × {invoke, ainvoke, stream} ×
{one gated call, three parallel calls with two gated} × {approve, edit, reject, respond}."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from .harness import (
    ADAPTERS,
    EDITS,
    GATED,
    PARALLEL,
    SINGLE,
    Executions,
    ToolFake,
    answer_for,
    assert_paired,
    build,
    make_shield,
    new_config,
    run_async,
    run_sync,
    script,
)

SHAPES = {"single": SINGLE, "parallel": PARALLEL}


@pytest.mark.parametrize("answer", ["approve", "edit", "reject", "respond"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream"])
@pytest.mark.parametrize("adapter", ADAPTERS)
async def test_matrix(adapter: str, mode: str, shape: str, answer: str) -> None:
    """Gated calls run exactly once only when approved or edited (with the edited args), never when
    rejected or answered; the ungated call runs once; every call gets exactly one ToolMessage."""
    calls = SHAPES[shape]
    ex = Executions()
    shield = make_shield()
    model = ToolFake(responses=script(calls, "done"))
    graph = build(adapter, shield, model, ex, InMemorySaver())
    config = new_config(adapter)
    if mode == "ainvoke":
        seen = await run_async(graph, "please do the tasks", config, answer_for(answer))
        state = (await graph.aget_state(config)).values
    else:
        seen = run_sync(graph, "please do the tasks", config, answer_for(answer), stream=mode == "stream")
        state = graph.get_state(config).values

    gated = [c for c in calls if c["name"] in GATED]
    assert sorted(r["tool_name"] for r in seen) == sorted(c["name"] for c in gated)
    assert all(r["tool_call_id"] in {c["id"] for c in gated} for r in seen)
    answers = assert_paired(state["messages"])
    for c in gated:
        ran = ex.of(c["name"])
        msg = answers[c["id"]]
        if answer == "approve":
            assert ran == [c["args"]]
            assert msg.status == "success"
        elif answer == "edit":
            assert ran == [EDITS[c["name"]]]
            assert msg.status == "success"
        elif answer == "reject":
            assert ran == []
            assert msg.status == "error"
            assert "not executed" in msg.content
        else:
            assert ran == []
            assert msg.status == "success"
            assert msg.content == f"reviewer answered for {c['name']}"
    for c in calls:
        if c["name"] not in GATED:
            assert ex.of(c["name"]) == [c["args"]]
            assert answers[c["id"]].content == f"result for {c['args']['q']}"
    final = state["messages"][-1]
    assert isinstance(final, AIMessage)
    assert final.content == "done"

