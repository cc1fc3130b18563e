"""The decision vocabulary: ordering, JSON round-trips, approval answer shapes."""

from __future__ import annotations

import json

import pytest

from airs_plugins import Action, ApprovalDecision, Decision, Finding, RunContext, Severity


class TestAction:
    def test_most_restrictive_wins(self) -> None:
        """block beats require_approval beats redact beats allow."""
        assert Action.most_restrictive(Action.ALLOW, Action.REDACT) is Action.REDACT
        assert Action.most_restrictive(Action.REDACT, Action.BLOCK, Action.REQUIRE_APPROVAL) is Action.BLOCK
        assert Action.most_restrictive() is Action.ALLOW

    def test_values_are_the_contract_strings(self) -> None:
        """The JSON values are exactly the four promised names."""
        assert [a.value for a in Action] == ["allow", "redact", "require_approval", "block"]


class TestDecisionJson:
    def test_round_trip_is_stable(self) -> None:
        """model_dump(mode=json) → model_validate → model_dump gives the same JSON."""
        d = Decision(action=Action.REDACT, findings=(Finding(check="c", category="pii", severity=Severity.LOW,
                                                             score=0.7, spans=((1, 4),), maso=("DP-2.1",)),),
                     redacted="a[EMAIL]", context=RunContext(run_id="r", thread_id="t"))
        first = d.model_dump(mode="json")
        again = Decision.model_validate(json.loads(json.dumps(first))).model_dump(mode="json")
        assert first == again

    def test_contract_keys_present(self) -> None:
        """The Decision JSON carries every key DESIGN §7 promises."""
        keys = set(Decision(action=Action.ALLOW).model_dump(mode="json"))
        assert {"action", "layer", "status", "enforced", "findings", "risk_tier", "latency_ms", "redacted",
                "policy_hash", "correlation_id", "context"} <= keys

    def test_frozen(self) -> None:
        """Decisions are immutable."""
        d = Decision(action=Action.ALLOW)
        with pytest.raises(ValueError):
            d.action = Action.BLOCK  # type: ignore[misc]

    def test_flag_is_allow_with_findings(self) -> None:
        """There is no flag action: an allow with findings is flagged."""
        d = Decision(action=Action.ALLOW, findings=(Finding(check="c", category="x"),))
        assert d.flagged and d.allowed and not d.blocked


class TestApprovalDecisionCoerce:
    def test_our_shape(self) -> None:
        """Our own JSON is read as is."""
        a = ApprovalDecision.coerce({"type": "edit", "args": {"x": 1}, "reviewer": "ann"})
        assert (a.type, a.args, a.reviewer) == ("edit", {"x": 1}, "ann")

    def test_langchain_hitl_shape(self) -> None:
        """LangChain HITL's {"decisions": [...]} with edited_action is accepted."""
        a = ApprovalDecision.coerce({"decisions": [{"type": "edit", "edited_action": {"name": "t", "args": {"y": 2}}}]})
        assert a.type == "edit" and a.args == {"y": 2}

    def test_bare_string(self) -> None:
        """A bare decision type is accepted."""
        assert ApprovalDecision.coerce("reject").type == "reject"

    def test_unknown_type_rejected(self) -> None:
        """An answer that is not one of the four types fails validation."""
        with pytest.raises(ValueError):
            ApprovalDecision.coerce({"type": "maybe"})
