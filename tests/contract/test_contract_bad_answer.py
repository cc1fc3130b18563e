"""A reviewer's answer that cannot be read (a typo, an empty LangChain ``decisions`` list, a number).

``ApprovalDecision.coerce`` raises ``ApprovalFormatError`` saying what a valid answer looks like (before:
a pydantic ``ValidationError``, an ``IndexError``, a ``TypeError``). Inside a run the answer denies the
call, with that reason: LangGraph keeps a resume value with the paused task, so raising would raise again
on every later resume and leave the thread stuck."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from airs_plugins import ApprovalDecision, ApprovalFormatError
from contract.harness import (
    ADAPTERS,
    Executions,
    ToolFake,
    assert_paired,
    build,
    call,
    make_shield,
    new_config,
    script,
)

BAD = ["yes", {"type": "approve-ish"}, {"decisions": []}, 42, {"type": "edit", "args": "not a dict"}]


@pytest.mark.parametrize("bad", BAD, ids=["word", "typo", "empty-decisions", "number", "edit-args"])
def test_unreadable_answers_say_what_a_valid_one_is(bad: Any) -> None:
    with pytest.raises(ApprovalFormatError, match=r'answer with \{"type": "approve"'):
        ApprovalDecision.coerce(bad)


def test_readable_answers_still_read() -> None:
    assert ApprovalDecision.coerce("approve").type == "approve"
    assert ApprovalDecision.coerce({"decisions": [{"type": "reject"}]}).type == "reject"
    edit = ApprovalDecision.coerce({"type": "edit", "edited_action": {"name": "x", "args": {"a": 1}}})
    assert edit.args == {"a": 1}


@pytest.mark.parametrize("bad", BAD, ids=["word", "typo", "empty-decisions", "number", "edit-args"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_unreadable_answer_denies_the_call_and_the_run_goes_on(adapter: str, bad: Any) -> None:
    ex = Executions()
    shield = make_shield()
    graph = build(adapter, shield, ToolFake(responses=script([call("transfer", {"amount": 5, "to": "a"}, "c1")],
                                                             "done")), ex, InMemorySaver())
    config = new_config()
    (pending,) = graph.invoke({"messages": [HumanMessage("go")]}, config)["__interrupt__"]
    out = graph.invoke(Command(resume={pending.id: bad}), config)
    assert ex.of("transfer") == []
    assert not out.get("__interrupt__") and out["messages"][-1].content == "done"
    answer = str(assert_paired(out["messages"])["c1"].content)
    assert "not executed" in answer and "cannot read the reviewer's answer" in answer
    (approval,) = [r.body for r in shield.recorder.records() if r.kind == "approval"]
    assert approval["action"] == "block"
    assert approval["answers"][0]["reviewer"] == "airs:unreadable-answer"
