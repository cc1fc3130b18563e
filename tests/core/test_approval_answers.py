"""What a resume value can hold for one request: one answer, a list of reviewers' answers, LangChain HITL's
``{"decisions": [...]}``, or nothing at all. Every answer counts wherever it stands, and an answer holding no
decision denies (it never raises: a framework keeps the resume value with the paused task)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airs_plugins import Action, ApprovalDecision, ApprovalFormatError, Layer, Shield

from ._fakes import core_policy

TOOLS = {"send_email": {"risk_tier": "HIGH", "side_effect": "external", "require_approval": True},
         "pay": {"risk_tier": "CRITICAL", "side_effect": "irreversible", "require_approval": True}}
ANN = {"type": "approve", "reviewer": "ann"}
BO = {"type": "approve", "reviewer": "bo"}


def _request(shield: Shield, tool: str = "send_email") -> Any:
    decision = shield.check_tool_call(tool, {"to": "a@b.example"}, tool_call_id="c1", thread_id="t1")
    assert decision.action is Action.REQUIRE_APPROVAL
    return shield.approval_request(decision, tool_args={"to": "a@b.example"})


def _both(shield: Shield, request: Any, answer: Any) -> list[Any]:
    """The sync and the async resolution of ``answer``."""
    return [shield.resolve_approval(request, answer), asyncio.run(shield.aresolve_approval(request, answer))]


@pytest.mark.parametrize("empty", [[], (), [[]], {"decisions": []}], ids=["list", "tuple", "nested", "hitl"])
def test_an_answer_with_no_decision_denies_instead_of_raising(empty: Any) -> None:
    """``Command(resume=[])`` (a reviewer UI that sends the list of answers it collected, still empty) used to
    raise IndexError out of the run, and again on every later resume of the same paused task."""
    shield = Shield.from_policy(core_policy(tools=TOOLS))
    request = _request(shield)
    for final in _both(shield, request, empty):
        assert final.action is Action.BLOCK and final.layer is Layer.HUMAN
        assert "cannot read the reviewer's answer" in final.reason
    approvals = [r.body for r in shield.recorder.records() if r.kind == "approval"]
    assert [a["answers"][0]["reviewer"] for a in approvals] == ["airs:unreadable-answer"] * 2


def test_coerce_all_refuses_no_decision() -> None:
    with pytest.raises(ApprovalFormatError, match="holds no decision"):
        ApprovalDecision.coerce_all([])
    assert [d.reviewer for d in ApprovalDecision.coerce_all({"decisions": [ANN, BO]})] == ["ann", "bo"]


@pytest.mark.parametrize("answer", [
    [ANN, {"type": "respond", "reviewer": "bo", "message": "do not send it; tell the user it is handled"}],
    [ANN, {"type": "reject", "reviewer": "bo"}],
    {"decisions": [ANN, {"type": "reject", "reviewer": "bo"}]},
    {"decisions": [ANN, {"type": "respond", "reviewer": "bo", "message": "no"}]},
], ids=["list-respond", "list-reject", "hitl-reject", "hitl-respond"])
def test_a_reviewer_who_says_no_is_not_outvoted_by_answering_second(answer: Any) -> None:
    """The outcome of several reviewers' answers does not depend on their order: a respond (answer the user
    instead of running the call) after an approval used to be dropped, and so was every decision of a HITL
    ``decisions`` list after its first, so the call ran although a reviewer had said no."""
    shield = Shield.from_policy(core_policy(tools=TOOLS))
    request = _request(shield)
    for final in _both(shield, request, answer):
        assert final.action is Action.BLOCK, final.reason
        assert "second reviewer (bo)" in final.reason
    for answers in (answer, list(reversed(answer)) if isinstance(answer, list) else
                    {"decisions": list(reversed(answer["decisions"]))}):
        assert shield.resolve_approval(request, answers).action is Action.BLOCK


def test_two_approvers_can_answer_in_langchains_shape() -> None:
    """A CRITICAL call needs two distinct approvers; HITL's list of decisions now carries both."""
    shield = Shield.from_policy(core_policy(tools=TOOLS))
    request = _request(shield, "pay")
    assert request.approvals_required == 2
    for final in _both(shield, request, {"decisions": [ANN, BO]}):
        assert final.action is Action.ALLOW and final.reason == "approved by ann, bo"
    for final in _both(shield, request, {"decisions": [ANN]}):
        assert final.action is Action.BLOCK and "distinct approvers, got 1" in final.reason
