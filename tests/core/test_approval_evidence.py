"""What an approval request shows: everything a reviewer needs, but never a secret's value (the request
goes wherever the framework shows interrupts, often to the user who started the run)."""

from __future__ import annotations

from collections.abc import Sequence

from airs_plugins import Action, ApprovalRequest, Channel, Finding, Severity, Shield, Subject

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


def _no_keys_in_mail(**schema: object) -> Shield:
    """The policy an operator put in force after the request was raised: a rule on the body."""
    body = {"type": "string", **schema}
    tools = {"send_email": {"side_effect": "external",
                            "args_schema": {"type": "object", "properties": {"body": body}}}}
    return Shield.from_policy(core_policy(tools=tools), checks=[SecretNeedsReview()])


def _raised_before(args: dict[str, str]) -> ApprovalRequest:
    s = shield()
    saved = s.approval_request(s.check_tool_call("send_email", args), tool_args=args).model_dump(mode="json")
    return ApprovalRequest.model_validate(saved)  # as read back after a restart under the new policy


def test_an_approval_under_a_changed_policy_is_rechecked_on_the_real_arguments() -> None:
    """The re-check of a call approved under another policy than the one raising it ran on the request's
    arguments, whose secret is masked: a call the new policy blocks (a key in the body) was approved, and one
    it allows (a body in plain words, the label's brackets aside) was denied. The caller's arguments decide."""
    args = {"to": "ops@corp.example", "body": f"the key is {KEY}, use it"}
    approve = {"type": "approve", "reviewer": "ann"}
    forbids = _no_keys_in_mail(**{"not": {"pattern": "sk-live-"}})
    assert forbids.check_tool_call("send_email", args).action is Action.BLOCK
    final = forbids.resolve_approval(_raised_before(args), approve, tool_args=args)
    assert final.action is Action.BLOCK and "changed since the request" in final.reason
    plain = _no_keys_in_mail(pattern="^[A-Za-z0-9 ,.-]*$")
    assert plain.check_tool_call("send_email", args).action is not Action.BLOCK
    assert plain.resolve_approval(_raised_before(args), approve, tool_args=args).action is Action.ALLOW


def test_without_the_real_arguments_a_masked_request_under_a_changed_policy_is_denied() -> None:
    """Not given what runs, the masked arguments cannot stand in for it: denied (fail closed), never approved
    on the strength of a re-check of the label."""
    args = {"to": "ops@corp.example", "body": f"the key is {KEY}, use it"}
    final = _no_keys_in_mail(**{"not": {"pattern": "sk-live-"}}).resolve_approval(
        _raised_before(args), {"type": "approve", "reviewer": "ann"})
    assert final.action is Action.BLOCK and "ask again" in final.reason


async def test_the_async_twin_rechecks_the_real_arguments() -> None:
    args = {"to": "ops@corp.example", "body": f"the key is {KEY}, use it"}
    final = await _no_keys_in_mail(**{"not": {"pattern": "sk-live-"}}).aresolve_approval(
        _raised_before(args), {"type": "approve", "reviewer": "ann"}, tool_args=args)
    assert final.action is Action.BLOCK
