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


# an empty list of answers holds no decision: it used to raise IndexError out of the run, and again on every later
# resume of the task (LangGraph keeps the resume value with it), so the thread stayed stuck
@pytest.mark.parametrize("bad", [*BAD, []], ids=["word", "typo", "empty-decisions", "number", "edit-args",
                                               "empty-list"])
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


@pytest.mark.parametrize("shape", ["hitl", "ours"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_edit_naming_another_tool_is_refused(adapter: str, shape: str) -> None:
    """An edit changes a call's arguments, never its tool: one naming another tool refuses the call, saying
    how to get the other tool run. Before, the name was dropped and the original, irreversible tool ran with
    the edited arguments."""
    ex = Executions()
    shield = make_shield()
    graph = build(adapter, shield, ToolFake(responses=script([call("transfer", {"amount": 900, "to": "a"}, "c1")],
                                                             "done")), ex, InMemorySaver())
    config = new_config()
    (pending,) = graph.invoke({"messages": [HumanMessage("go")]}, config)["__interrupt__"]
    edited = {"name": "lookup", "args": {"q": "900 to a"}}
    answer = {"decisions": [{"type": "edit", "edited_action": edited}]} if shape == "hitl" \
        else {"type": "edit", **edited, "reviewer": "rev"}
    out = graph.invoke(Command(resume={pending.id: answer}), config)
    assert ex.log == []
    assert out["messages"][-1].content == "done"
    refused = str(assert_paired(out["messages"])["c1"].content)
    assert "not executed" in refused and "names another tool ('lookup' instead of 'transfer')" in refused
    assert "reject this call and let the model call that tool" in refused
    (approval,) = [r.body for r in shield.recorder.records() if r.kind == "approval"]
    assert approval["action"] == "block" and approval["answers"][0]["name"] == "lookup"


def test_an_edit_naming_the_same_tool_still_runs() -> None:
    shield = make_shield()
    request = shield.approval_request(shield.check_tool_call("transfer", {"amount": 900, "to": "a"}),
                                      tool_args={"amount": 900, "to": "a"})
    final = shield.resolve_approval(request, {"decisions": [{"type": "edit", "edited_action": {
        "name": "transfer", "args": {"amount": 9, "to": "a"}}}]})
    assert final.allowed and final.redacted_args == {"amount": 9, "to": "a"}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_answer_naming_another_request_denies_the_call_it_reaches(adapter: str) -> None:
    """A bare resume value goes to whatever is paused now, which may be a later request than the one the
    reviewer saw (the user wrote again meanwhile and the model made another gated call). An answer that
    names another request settles nothing: the call it reaches is denied, never run on it. Found by review:
    the ``request_id`` an answer carries was never compared with the request."""
    ex = Executions()
    shield = make_shield()
    graph = build(adapter, shield, ToolFake(responses=script([call("transfer", {"amount": 9000, "to": "x"}, "c1")],
                                                             "done")), ex, InMemorySaver())
    config = new_config()
    (pending,) = graph.invoke({"messages": [HumanMessage("go")]}, config)["__interrupt__"]
    assert pending.value["id"] != "apr-seen-by-the-reviewer"
    out = graph.invoke(Command(resume={"type": "approve", "reviewer": "ann",
                                       "request_id": "apr-seen-by-the-reviewer"}), config)
    assert ex.of("transfer") == []
    assert not out.get("__interrupt__") and out["messages"][-1].content == "done"
    answer = str(assert_paired(out["messages"])["c1"].content)
    assert "names request 'apr-seen-by-the-reviewer'" in answer
    # the same answer naming this very request approves it
    ex2 = Executions()
    graph = build(adapter, make_shield(), ToolFake(responses=script([call("transfer", {"amount": 9000, "to": "x"},
                                                                         "c1")], "done")), ex2, InMemorySaver())
    config = new_config()
    (pending,) = graph.invoke({"messages": [HumanMessage("go")]}, config)["__interrupt__"]
    graph.invoke(Command(resume={"type": "approve", "reviewer": "ann", "request_id": pending.value["id"]}), config)
    assert ex2.of("transfer") == [{"amount": 9000, "to": "x"}]
