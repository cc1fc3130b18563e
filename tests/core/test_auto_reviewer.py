"""``AutoReviewer`` (public test helper): fixed answers, scripts that keep their last answer, functions."""

from __future__ import annotations

from airs_plugins import Action, ApprovalRequest, Layer, Shield
from airs_plugins.testing import AutoReviewer

from ._fakes import core_policy


def gated() -> tuple[Shield, ApprovalRequest]:
    shield = Shield.from_policy(core_policy(tools={"wire": {"risk_tier": "HIGH", "side_effect": "external",
                                                            "require_approval": True}}))
    decision = shield.check_tool_call("wire", {"to": "acct-1", "amount": 5})
    assert decision.needs_approval
    return shield, shield.approval_request(decision, tool_args={"to": "acct-1", "amount": 5})


def test_fixed_answer_is_signed_by_the_reviewer() -> None:
    shield, request = gated()
    reviewer = AutoReviewer("approve")
    final = shield.resolve_approval(request, reviewer(request))
    assert final.action is Action.ALLOW and final.layer is Layer.HUMAN
    assert final.approval is not None and final.approval.reviewer == "auto-reviewer"
    assert [r.id for r in reviewer.seen] == [request.id]


def test_script_runs_in_order_then_keeps_its_last_answer() -> None:
    _shield, request = gated()
    reviewer = AutoReviewer(["approve", "reject"], reviewer="qa")
    answers = [reviewer(request.model_dump(mode="json"))["type"] for _ in range(4)]
    assert answers == ["approve", "reject", "reject", "reject"]
    assert len(reviewer.seen) == 4 and reviewer(request)["reviewer"] == "qa"


def test_function_answer_can_edit() -> None:
    shield, request = gated()
    reviewer = AutoReviewer(lambda req: {"type": "edit", "args": {**(req.tool_args or {}), "amount": 1},
                                         "reviewer": "alice"})
    final = shield.resolve_approval(request, reviewer(request))
    assert final.action is Action.REDACT and final.approval is not None
    assert final.approval.reviewer == "alice" and final.approval.args == {"to": "acct-1", "amount": 1}


def test_reply_is_the_reviewers_own_answer() -> None:
    """``Decision.reply``: a respond's message; None for an empty respond and for any other answer."""
    shield, request = gated()
    said = shield.resolve_approval(request, {"type": "respond", "message": "Use the portal.", "reviewer": "ann"})
    empty = shield.resolve_approval(request, {"type": "respond", "reviewer": "ann"})
    rejected = shield.resolve_approval(request, {"type": "reject", "reason": "no", "reviewer": "ann"})
    assert (said.reply, empty.reply, rejected.reply) == ("Use the portal.", None, None)
