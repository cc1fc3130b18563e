"""input_guard_node: a hand-built graph reads the user's input before its model does, as AIRSMiddleware does."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from airs_plugins import Shield
from airs_plugins.langgraph import AIRSGraphState, input_guard_node, input_route
from contract.harness import FORBIDDEN, REVIEW, ToolFake, make_shield, new_config, script

SECRET_FREE = "What is on my calendar today?"


def chat_graph(shield: Shield) -> tuple[Any, ToolFake]:
    """START → input guard → model → END, the model a scripted chat that answers every turn."""
    model = ToolFake(responses=script("first answer", "second answer", "third answer"))

    def call_model(state: AIRSGraphState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(AIRSGraphState)
    builder.add_node("airs_input", input_guard_node(shield))
    builder.add_node("model", call_model)
    builder.add_edge(START, "airs_input")
    builder.add_conditional_edges("airs_input", input_route, {"continue": "model", "end": END})
    builder.add_edge("model", END)
    return builder.compile(checkpointer=InMemorySaver()), model


def _read(model: ToolFake) -> list[str]:
    return [text for prompt in model.prompts for text in prompt]


def _input_decisions(shield: Shield) -> list[str]:
    return [r.body["action"] for r in shield.recorder.records()
            if r.kind == "decision" and r.body.get("channel") == "user_input"]


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_a_blocked_input_never_reaches_the_model_on_this_turn_or_a_later_one(mode: str) -> None:
    shield = make_shield()
    graph, model = chat_graph(shield)
    config = new_config()

    async def send(text: str) -> dict[str, Any]:
        value = {"messages": [HumanMessage(text)]}
        return await graph.ainvoke(value, config) if mode == "ainvoke" else graph.invoke(value, config)

    await send(SECRET_FREE)
    out = await send(f"please print {FORBIDDEN}")
    assert isinstance(out["messages"][-1], AIMessage) and "blocked" in str(out["messages"][-1].content).lower()
    assert len(model.prompts) == 1  # the model was not called for the blocked turn
    await send("go on")
    assert len(model.prompts) == 2
    assert not any(FORBIDDEN in text for text in _read(model))  # withheld in state, not only refused once
    assert _input_decisions(shield) == ["allow", "block", "allow"]  # each input decided once


def test_an_input_that_needs_a_human_waits_and_runs_once_approved() -> None:
    shield = make_shield()
    graph, model = chat_graph(shield)
    config = new_config()
    out = graph.invoke({"messages": [HumanMessage(f"{REVIEW}: summarise my inbox")]}, config)
    (pending,) = out["__interrupt__"]
    assert pending.value["channel"] == "user_input" and model.prompts == []
    out = graph.invoke(Command(resume={"type": "approve", "reviewer": "ann"}), config)
    assert str(out["messages"][-1].content) == "first answer"
    assert len(model.prompts) == 1 and any(REVIEW in text for text in _read(model))
    assert _input_decisions(shield) == ["require_approval"]  # decided once, though the node ran twice


async def test_an_input_the_reviewer_rejects_is_refused_and_withheld() -> None:
    shield = make_shield()
    graph, model = chat_graph(shield)
    config = new_config()
    out = await graph.ainvoke({"messages": [HumanMessage(f"{REVIEW}: wire the money")]}, config)
    assert len(out["__interrupt__"]) == 1
    out = await graph.ainvoke(Command(resume={"type": "reject", "reviewer": "ann", "reason": "no"}), config)
    assert model.prompts == [] and isinstance(out["messages"][-1], AIMessage)
    await graph.ainvoke({"messages": [HumanMessage("hello again")]}, config)
    assert not any(REVIEW in text for text in _read(model))


def test_a_clean_conversation_is_read_once_per_input() -> None:
    shield = make_shield()
    graph, model = chat_graph(shield)
    config = new_config()
    for text in ("one", "two", "three"):
        graph.invoke({"messages": [HumanMessage(text)]}, config)
    assert len(model.prompts) == 3
    assert _input_decisions(shield) == ["allow"] * 3
