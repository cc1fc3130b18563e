"""AIRSMiddleware with ``create_agent(response_format=...)``: the structured answer (a call the model node
answers itself) is guarded as the model's output, never decided as a tool call, and a block, redaction or
rejected review reaches ``structured_response`` too."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ProviderStrategy, ToolStrategy
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import BaseModel

from airs_plugins import Action, Channel, Finding, Severity, Shield, Subject
from airs_plugins.langchain import AIRSMiddleware
from airs_plugins.langchain._enforce import HELD_TEXT
from airs_plugins.langchain._middleware import OUTPUT_REFUSAL
from contract.harness import (
    FORBIDDEN,
    INJECT,
    POLICY,
    REVIEW,
    SECRET,
    Executions,
    MarkerCheck,
    ToolFake,
    assert_paired,
    call,
    interrupts_of,
    new_config,
    script,
)


class Answer(BaseModel):
    city: str
    note: str = ""


class OutputSecret:
    """Redacts :data:`SECRET` from model outputs (the harness's marker check redacts it elsewhere only)."""

    id = "test.output_secret"
    channels = frozenset({Channel.MODEL_OUTPUT})
    maso = ("DP-2.1",)
    attack_categories = frozenset()

    def run(self, subject: Subject) -> Sequence[Finding]:
        pos = subject.payload.find(SECRET)
        if pos < 0:
            return []
        return [Finding(check=self.id, category="secret", severity=Severity.HIGH, score=1.0,
                        spans=((pos, pos + len(SECRET)),), message="secret in output", action=Action.REDACT,
                        redact_label="[REDACTED]")]


FORMATS = [pytest.param(lambda: ToolStrategy(Answer), id="ToolStrategy"), pytest.param(lambda: Answer, id="auto")]


def agent(turns: list[Any], response_format: Any) -> tuple[Any, Executions, Shield]:
    shield = Shield.from_policy(POLICY, checks=[MarkerCheck(), OutputSecret()])
    ex = Executions()
    graph = create_agent(ToolFake(responses=script(*turns)), ex.tools(), middleware=[AIRSMiddleware(shield)],
                         checkpointer=InMemorySaver(), response_format=response_format)
    return graph, ex, shield


def answer_call(call_id: str = "s1", **fields: str) -> list[dict[str, Any]]:
    return [call("Answer", {"city": "Paris", **fields}, call_id)]


def invoke(graph: Any, payload: Any, config: dict[str, Any], use_async: bool) -> Any:
    return asyncio.run(graph.ainvoke(payload, config)) if use_async else graph.invoke(payload, config)


def audited(shield: Shield, kind: str) -> list[dict[str, Any]]:
    return [r.body for r in shield.recorder.records() if r.kind == kind]


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("fmt", FORMATS)
def test_structured_answer_is_output_not_a_tool_call(fmt: Any, use_async: bool) -> None:
    """After reading untrusted content, the structured answer is not an 'unknown tool call' needing an
    approval nobody is asked for: it is checked once, as the output, and returned."""
    graph, ex, shield = agent([[call("read_inbox", {"folder": "in"}, "c1")], answer_call()], fmt())
    assert INJECT in ex.inbox
    out = invoke(graph, {"messages": [HumanMessage("where?")]}, new_config(), use_async)
    assert out["structured_response"] == Answer(city="Paris")
    assert set(out["airs_decisions"]) == {"c1"}
    assert audited(shield, "approval_request") == []
    outputs = [d for d in audited(shield, "decision") if d["channel"] == "model_output"]
    assert len(outputs) == 1 and outputs[0]["action"] == "allow"
    assert_paired(out["messages"])


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("fmt", FORMATS)
def test_blocked_structured_answer_is_withdrawn(fmt: Any, use_async: bool) -> None:
    """A blocked structured answer leaves no structured response, no copy of it in the messages, and no
    unpaired ToolMessage."""
    graph, _ex, _shield = agent([answer_call(note=f"the code is {FORBIDDEN}")], fmt())
    out = invoke(graph, {"messages": [HumanMessage("where?")]}, new_config(), use_async)
    assert out.get("structured_response") is None
    assert out["messages"][-1].content == OUTPUT_REFUSAL
    assert FORBIDDEN not in str(out["messages"])
    assert_paired(out["messages"])


def test_blocked_answer_does_not_leave_an_earlier_structured_response() -> None:
    """A thread's second question whose answer is blocked does not return the first answer's response."""
    graph, _ex, _shield = agent([answer_call("s1"), answer_call("s2", note=FORBIDDEN)], ToolStrategy(Answer))
    config = new_config()
    assert graph.invoke({"messages": [HumanMessage("where?")]}, config)["structured_response"] == Answer(city="Paris")
    out = graph.invoke({"messages": [HumanMessage("and now?")]}, config)
    assert out.get("structured_response") is None and out["messages"][-1].content == OUTPUT_REFUSAL


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("fmt", FORMATS)
def test_redacted_structured_answer_is_rewritten_everywhere(fmt: Any, use_async: bool) -> None:
    """A redaction reaches the structured response, the call's arguments and the model node's answer."""
    graph, _ex, _shield = agent([answer_call(note=f"key {SECRET} inside")], fmt())
    out = invoke(graph, {"messages": [HumanMessage("where?")]}, new_config(), use_async)
    assert out["structured_response"] == Answer(city="Paris", note="key [REDACTED] inside")
    assert SECRET not in str(out["messages"])
    ai = next(m for m in out["messages"] if isinstance(m, AIMessage) and m.tool_calls)
    assert ai.tool_calls[0]["args"]["note"] == "key [REDACTED] inside"
    assert_paired(out["messages"])


@pytest.mark.parametrize(("verdict", "kept"), [("approve", True), ("reject", False)])
def test_structured_answer_held_for_review(verdict: str, kept: bool) -> None:
    """An answer needing approval pauses after the agent; a rejection withdraws the structured response
    and the model node's answer to it, an approval keeps both."""
    graph, _ex, shield = agent([answer_call(note=REVIEW)], ToolStrategy(Answer))
    config = new_config()
    first = graph.invoke({"messages": [HumanMessage("where?")]}, config)
    (pending,) = interrupts_of(first)
    assert pending.value["channel"] == "model_output" and REVIEW in pending.value["payload_preview"]
    # while it waits, neither the messages nor structured_response carry the answer
    assert first.get("structured_response") is None and first["messages"][-1].content == HELD_TEXT
    assert REVIEW not in str(first["messages"])
    assert_paired(first["messages"])
    out = graph.invoke(Command(resume={"type": verdict, "reviewer": "rev"}), config)
    if kept:
        assert out["structured_response"] == Answer(city="Paris", note=REVIEW)
        assert [type(m).__name__ for m in out["messages"]] == ["HumanMessage", "AIMessage", "ToolMessage"]
    else:
        assert out.get("structured_response") is None
        assert out["messages"][-1].content == OUTPUT_REFUSAL
        assert not [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert_paired(out["messages"])
    assert len(audited(shield, "approval_request")) == 1


@pytest.mark.parametrize(("note", "expected"), [(f"key {SECRET}", Answer(city="Paris", note="key [REDACTED]")),
                                                (f"key {FORBIDDEN}", None)])
def test_provider_strategy_answer_follows_the_text_guard(note: str, expected: Answer | None) -> None:
    """With ``ProviderStrategy`` the answer is JSON text, parsed before the guard ran: a redaction of the
    text is carried into ``structured_response`` and a block withdraws it."""
    shield = Shield.from_policy(POLICY, checks=[MarkerCheck(), OutputSecret()])
    model = ToolFake(responses=[AIMessage(json.dumps({"city": "Paris", "note": note}))])
    graph = create_agent(model, Executions().tools(), middleware=[AIRSMiddleware(shield)],
                         checkpointer=InMemorySaver(), response_format=ProviderStrategy(Answer))
    out = graph.invoke({"messages": [HumanMessage("where?")]}, new_config())
    assert out.get("structured_response") == expected
    assert SECRET not in str(out) and FORBIDDEN not in str(out["messages"])


@pytest.mark.parametrize(("verdict", "kept"), [("approve", True), ("reject", False)])
def test_provider_strategy_answer_held_for_review(verdict: str, kept: bool) -> None:
    """A ``ProviderStrategy`` answer needing approval is reviewed like any answer; a rejection withdraws
    the structured response parsed from it as well."""
    shield = Shield.from_policy(POLICY, checks=[MarkerCheck(), OutputSecret()])
    model = ToolFake(responses=[AIMessage(json.dumps({"city": "Paris", "note": REVIEW}))])
    graph = create_agent(model, Executions().tools(), middleware=[AIRSMiddleware(shield)],
                         checkpointer=InMemorySaver(), response_format=ProviderStrategy(Answer))
    config = new_config()
    first = graph.invoke({"messages": [HumanMessage("where?")]}, config)
    (pending,) = interrupts_of(first)
    assert pending.value["channel"] == "model_output"
    assert first.get("structured_response") is None and REVIEW not in str(first["messages"])
    out = graph.invoke(Command(resume={"type": verdict, "reviewer": "rev"}), config)
    assert out.get("structured_response") == (Answer(city="Paris", note=REVIEW) if kept else None)
    assert (out["messages"][-1].content == OUTPUT_REFUSAL) is not kept
