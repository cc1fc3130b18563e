"""What an approval request shows: everything a reviewer needs, but never a secret's value (the request
goes wherever the framework shows interrupts, often to the user who started the run)."""

from __future__ import annotations

from collections.abc import Sequence

from airs_plugins import Action, Channel, Finding, Severity, Shield, Subject

from ._fakes import core_policy

KEY = "sk-live-4f9a8b7c6d5e"


class SecretNeedsReview:
    """A secret in a tool call or an output that a human must look at."""

    id = "test.secret_review"
    channels = frozenset({Channel.TOOL_CALL, Channel.MODEL_OUTPUT})
    maso = ("DP-2.1",)
    attack_categories = frozenset()

    def run(self, subject: Subject) -> Sequence[Finding]:
        at = subject.payload.find(KEY)
        if at < 0:
            return []
        return [Finding(check=self.id, category="secret", severity=Severity.HIGH, score=0.95,
                        spans=((at, at + len(KEY)),), message="api key", action=Action.REQUIRE_APPROVAL,
                        redact_label="[SECRET:api_key]")]


def shield() -> Shield:
    return Shield.from_policy(core_policy(tools={"send_email": {"side_effect": "external"}}),
                              checks=[SecretNeedsReview()])


def test_tool_call_request_shows_the_label_not_the_key() -> None:
    s = shield()
    args = {"to": "ops@corp.example", "body": f"the key is {KEY}, use it"}
    decision = s.check_tool_call("send_email", args)
    assert decision.needs_approval
    request = s.approval_request(decision, tool_args=args)
    assert request.tool_args == {"to": "ops@corp.example", "body": "the key is [SECRET:api_key], use it"}
    assert KEY not in request.model_dump_json()
    assert args["body"].endswith("use it") and KEY in args["body"]  # the call itself is untouched


def test_output_preview_shows_the_label_not_the_key() -> None:
    s = shield()
    text = f"Here is your key: {KEY}."
    decision = s.check_output(text)
    assert decision.needs_approval
    request = s.approval_request(decision, payload_preview=text)
    assert request.payload_preview == "Here is your key: [SECRET:api_key]."
    assert KEY not in request.model_dump_json()


def test_approved_call_runs_with_the_original_arguments() -> None:
    """The reviewer approves what the label stands for; the call keeps its arguments (an edit based on
    the shown ones would send the label instead)."""
    s = shield()
    args = {"to": "ops@corp.example", "body": KEY}
    decision = s.check_tool_call("send_email", args)
    final = s.resolve_approval(s.approval_request(decision, tool_args=args), {"type": "approve", "reviewer": "ann"})
    assert final.action is Action.ALLOW and final.redacted_args is None
