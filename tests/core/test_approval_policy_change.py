"""Approvals answered after the operator changed the policy: what a reviewer releases (a tool's result, an
answer, an input) is re-checked under the policy in force, and the review SLA in force applies to the requests
already open when it is shorter (never when it is longer)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from airs_plugins import Action, ApprovalRequest, Channel, Layer, Shield

from ._fakes import core_policy

TERM = "Project Falcon"
EMAIL = "ann.lee@corp.example"
APPROVE = {"type": "approve", "reviewer": "ann"}


def policy(banned: str = "require_approval", *, pii: bool = False, tiers: dict[str, Any] | None = None,
           **extra: Any) -> dict[str, Any]:
    """The core checks, a banned term on answers and tool results (``banned``: what it does), and when ``pii``
    e-mail addresses redacted there too."""
    checks = [*core_policy()["checks"],  # type: ignore[misc]
              {"id": "output.banned", "action": banned, "channels": ["model_output", "tool_result", "user_input"]}]
    if pii:
        checks.append({"id": "pii.detect", "action": "redact",
                       "options": {"kinds": ["email"], "redact_channels": ["model_output", "tool_result",
                                                                           "user_input"]}})
    return {"checks": checks, "banned_terms": [TERM], "tools": {"crm": {"side_effect": "read"}},
            **({"tiers": tiers} if tiers else {}), **extra}


def raised(before: Shield, channel: Channel, text: str) -> ApprovalRequest:
    """The request ``before`` raises for ``text``, as read back from a checkpoint after a restart."""
    decision = {Channel.MODEL_OUTPUT: before.check_output, Channel.USER_INPUT: before.check_input,
                Channel.TOOL_RESULT: lambda t: before.check_tool_result("crm", t, tool_call_id="c1")}[channel](text)
    assert decision.needs_approval, decision.reason
    request = before.approval_request(decision, payload_preview=text)
    return ApprovalRequest.model_validate(request.model_dump(mode="json"))


def resolve(shield: Shield, request: ApprovalRequest, answer: Any, is_async: bool, **kw: Any) -> Any:
    if is_async:
        return asyncio.run(shield.aresolve_approval(request, answer, **kw))
    return shield.resolve_approval(request, answer, **kw)


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize("channel", [Channel.MODEL_OUTPUT, Channel.TOOL_RESULT])
def test_held_content_the_policy_in_force_blocks_is_not_released(channel: Channel, is_async: bool) -> None:
    """Asked under a policy that sends the term to a reviewer, approved under one that blocks it: the block
    stands (before, the approval released it)."""
    text = f"The plan is {TERM}."
    request = raised(Shield.from_policy(policy()), channel, text)
    final = resolve(Shield.from_policy(policy("block")), request, APPROVE, is_async, held=text)
    assert final.action is Action.BLOCK and final.layer is Layer.HUMAN
    assert "changed since the request" in final.reason and final.released(text) is None


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize("channel", [Channel.MODEL_OUTPUT, Channel.TOOL_RESULT, Channel.USER_INPUT])
def test_held_content_is_released_with_the_redaction_in_force(channel: Channel, is_async: bool) -> None:
    """The policy in force redacts e-mail addresses: the approval releases the held text redacted."""
    text = f"{TERM}: write to {EMAIL}"
    request = raised(Shield.from_policy(policy()), channel, text)
    final = resolve(Shield.from_policy(policy(pii=True)), request, APPROVE, is_async, held=text)
    assert final.allowed and final.action is Action.REDACT, final.reason
    released = final.released(text)
    assert released is not None and EMAIL not in released and released.startswith(TERM)
    assert final.approval is not None and final.approval.reviewer == "ann"


def test_the_approval_satisfies_the_gate_the_policy_in_force_keeps() -> None:
    """The policy changed elsewhere (another tool), the term still needs a reviewer: the approval is one."""
    text = f"The plan is {TERM}."
    request = raised(Shield.from_policy(policy()), Channel.MODEL_OUTPUT, text)
    now = Shield.from_policy({**policy(), "tools": {"crm": {"side_effect": "read"}, "mail": {}}})
    assert now.policy_hash != request.policy_hash
    final = now.resolve_approval(request, APPROVE, held=text)
    assert final.action is Action.ALLOW and final.released(text) == text


def test_under_the_same_policy_the_held_text_is_not_needed() -> None:
    text = f"{TERM}: write to {EMAIL}"
    s = Shield.from_policy(policy())
    final = s.resolve_approval(raised(s, Channel.MODEL_OUTPUT, text), APPROVE)
    assert final.action is Action.ALLOW and final.released(text) == text


def test_without_the_held_text_an_approval_under_a_changed_policy_is_denied() -> None:
    """The preview is not the content (shortened, secrets masked): not given what is released, nothing is
    re-checked, and nothing is released (fail closed)."""
    text = f"The plan is {TERM}."
    request = raised(Shield.from_policy(policy()), Channel.TOOL_RESULT, text)
    final = Shield.from_policy(policy(pii=True)).resolve_approval(request, APPROVE)
    assert final.action is Action.BLOCK and "not given" in final.reason


def test_a_rejection_under_a_changed_policy_stays_a_rejection() -> None:
    text = f"The plan is {TERM}."
    request = raised(Shield.from_policy(policy()), Channel.MODEL_OUTPUT, text)
    final = Shield.from_policy(policy(pii=True)).resolve_approval(request, {"type": "reject"}, held=text)
    assert final.action is Action.BLOCK and final.reason.startswith("rejected")


def test_the_approvers_the_policy_in_force_asks_for_a_held_result() -> None:
    """The result's tier now needs two approvers: one is not enough (as for a tool call)."""
    text = f"The plan is {TERM}."
    request = raised(Shield.from_policy(policy()), Channel.TOOL_RESULT, text)
    assert request.approvals_required == 1
    two = Shield.from_policy(policy(tiers={"MEDIUM": {"approvers": 2}}))
    assert two.resolve_approval(request, APPROVE, held=text).action is Action.BLOCK
    both = [APPROVE, {"type": "approve", "reviewer": "bo"}]
    assert two.resolve_approval(request, both, held=text).action is Action.ALLOW


# -- the review SLA in force ----------------------------------------------------------------------
def sla(seconds: float) -> dict[str, Any]:
    return {"MEDIUM": {"review_sla_s": seconds}, "HIGH": {"review_sla_s": seconds}}


@pytest.mark.parametrize("is_async", [False, True])
def test_a_shortened_sla_expires_the_requests_already_open(is_async: bool) -> None:
    """Raised with a day to answer; the operator cuts the SLA to a minute; answered two minutes after it was
    raised: denied as expired (before, the day still held)."""
    text = f"The plan is {TERM}."
    request = raised(Shield.from_policy(policy(tiers=sla(86400))), Channel.MODEL_OUTPUT, text)
    later = request.created_at + timedelta(seconds=120)
    short = Shield.from_policy(policy(tiers=sla(60)))
    assert short.approval_deadline(request) == request.created_at + timedelta(seconds=60)
    final = resolve(short, request, APPROVE, is_async, held=text, now=later)
    assert final.action is Action.BLOCK and "expired" in final.reason
    inside = resolve(short, request, APPROVE, is_async, held=text, now=request.created_at + timedelta(seconds=30))
    assert inside.action is Action.ALLOW


def test_a_shortened_sla_applies_to_an_open_tool_call() -> None:
    s = Shield.from_policy(policy(tiers=sla(86400), tools={"crm": {"side_effect": "read",
                                                                   "require_approval": True}}))
    args = {"q": "x"}
    request = s.approval_request(s.check_tool_call("crm", args), tool_args=args)
    short = Shield.from_policy(policy(tiers=sla(60), tools={"crm": {"side_effect": "read",
                                                                    "require_approval": True}}))
    final = short.resolve_approval(request, APPROVE, tool_args=args, now=request.created_at + timedelta(seconds=90))
    assert final.action is Action.BLOCK and "expired" in final.reason


def test_a_longer_sla_never_extends_an_open_request() -> None:
    text = f"The plan is {TERM}."
    request = raised(Shield.from_policy(policy(tiers=sla(60))), Channel.MODEL_OUTPUT, text)
    long = Shield.from_policy(policy(tiers=sla(86400)))
    assert long.approval_deadline(request) == request.expires_at
    final = long.resolve_approval(request, APPROVE, held=text, now=request.created_at + timedelta(seconds=120))
    assert final.action is Action.BLOCK and "expired" in final.reason


def test_an_sla_in_force_bounds_a_request_raised_without_one() -> None:
    text = f"The plan is {TERM}."
    request = raised(Shield.from_policy(policy(tiers=sla(None))), Channel.MODEL_OUTPUT,  # type: ignore[arg-type]
                     text)
    assert request.expires_at is None
    short = Shield.from_policy(policy(tiers=sla(60)))
    final = short.resolve_approval(request, APPROVE, held=text, now=request.created_at + timedelta(seconds=120))
    assert final.action is Action.BLOCK and "expired" in final.reason
