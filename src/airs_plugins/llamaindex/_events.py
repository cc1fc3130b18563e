"""Workflow events that carry the core approval models (DESIGN §7: LlamaIndex events carry the same
``ApprovalRequest`` / ``ApprovalDecision`` as the LangGraph interrupt and the review queue)."""

from __future__ import annotations

from typing import Any, Literal

from llama_index.core.workflow import Event, HumanResponseEvent, InputRequiredEvent
from pydantic import Field, model_validator

from .._decision import ApprovalDecision, ApprovalRequest


class ApprovalRequired(InputRequiredEvent):
    """A guarded call (or answer) waits for a human. ``request`` is the ``ApprovalRequest`` JSON.

    The flat fields repeat the evidence a UI shows first; answer with :class:`ApprovalResponse`
    carrying the same ``request_id``.
    """

    request: dict[str, Any]
    request_id: str
    tool_name: str | None = None
    tool_args: dict[str, Any] | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list)
    judge_rationale: str | None = None
    reason: str = ""
    policy_hash: str = ""
    risk_tier: str = "MEDIUM"

    @classmethod
    def from_request(cls, req: ApprovalRequest) -> ApprovalRequired:
        data = req.model_dump(mode="json")
        return cls(
            request=data, request_id=req.id, tool_name=req.tool_name, tool_args=data.get("tool_args"),
            findings=data.get("findings") or [], judge_rationale=req.judge.rationale if req.judge else None,
            reason=req.reason, policy_hash=req.policy_hash, risk_tier=req.risk_tier.value,
            prefix=_prompt(req),
        )

    def approval_request(self) -> ApprovalRequest:
        return ApprovalRequest.model_validate(self.request)


class ApprovalResponse(HumanResponseEvent):
    """A human's answer: approve, edit (with ``args``), reject or respond (with ``message``).

    ``decisions``: the answers of several reviewers at once, for a request that needs more than one approver
    (``approvals_required``, the CRITICAL tier's two): build it with ``ApprovalResponse.answer(request,
    [first, second])``; the flat fields repeat the first. Unknown fields are refused, and so are ``args`` on
    an approve (an approve runs the call as the model made it; an edit runs it with other arguments).
    """

    request_id: str
    type: Literal["approve", "edit", "reject", "respond"]
    args: dict[str, Any] | None = None
    name: str | None = None
    """The tool an edit names (see ``ApprovalDecision.name``)."""
    message: str | None = None
    reviewer: str | None = None
    reason: str | None = None
    decisions: list[dict[str, Any]] | None = None

    def __init__(self, **params: Any) -> None:
        # an Event keeps unknown keywords as extra data; for an answer that would pass a misspelt or invented
        # field silently (``response`` is HumanResponseEvent's own)
        unknown = sorted(set(params) - set(type(self).model_fields) - set(self.__private_attributes__) - {"response"})
        if unknown:
            msg = (f"ApprovalResponse has no field {', '.join(map(repr, unknown))}; its fields are "
                   f"{', '.join(type(self).model_fields)}")
            raise TypeError(msg)
        super().__init__(**params)

    @model_validator(mode="after")
    def _readable(self) -> ApprovalResponse:
        answers = self.answers()
        if answers[0].type != self.type:
            msg = f"type {self.type!r} is not the first decision's ({answers[0].type!r})"
            raise ValueError(msg)
        if any(a.type == "approve" and a.args is not None for a in answers):
            msg = ("an approve carries no args: it runs the call as the model made it; answer with an edit "
                   "(type='edit', args=...) to run it with other arguments")
            raise ValueError(msg)
        return self

    def decision(self) -> ApprovalDecision:
        """The (first) reviewer's decision."""
        return ApprovalDecision(type=self.type, args=self.args, name=self.name, message=self.message,
                                reviewer=self.reviewer, reason=self.reason, request_id=self.request_id)

    def answers(self) -> list[ApprovalDecision]:
        """Every reviewer's decision, as ``Shield.resolve_approval`` reads them (one, or the ``decisions``)."""
        if not self.decisions:
            return [self.decision()]
        return [ApprovalDecision.coerce({**d, "request_id": self.request_id}) for d in self.decisions]

    @classmethod
    def answer(cls, request: ApprovalRequired | ApprovalRequest | str, answer: Any) -> ApprovalResponse:
        """Build a response from our JSON, LangChain HITL's shape, an ``ApprovalDecision`` or a bare type; a
        list of those is several reviewers' answers to the one request."""
        rid = request if isinstance(request, str) else (
            request.request_id if isinstance(request, ApprovalRequired) else request.id)
        several = isinstance(answer, (list, tuple))
        parsed = [ApprovalDecision.coerce(a) for a in (answer if several else [answer])]
        if not parsed:
            msg = "an empty list of decisions is no answer"
            raise ValueError(msg)
        d = parsed[0]
        decisions = [p.model_dump(mode="json", exclude={"request_id"}, exclude_none=True)
                     for p in parsed] if several else None
        return cls(request_id=rid, type=d.type, args=d.args, name=d.name, message=d.message, reviewer=d.reviewer,
                   reason=d.reason, decisions=decisions, response=d.message or d.type)

    @classmethod
    def approve(cls, request: ApprovalRequired | ApprovalRequest | str, *, reviewer: str | None = None,
                reason: str | None = None) -> ApprovalResponse:
        return cls.answer(request, {"type": "approve", "reviewer": reviewer, "reason": reason})

    @classmethod
    def edit(cls, request: ApprovalRequired | ApprovalRequest | str, args: dict[str, Any], *,
             reviewer: str | None = None, reason: str | None = None) -> ApprovalResponse:
        return cls.answer(request, {"type": "edit", "args": args, "reviewer": reviewer, "reason": reason})

    @classmethod
    def reject(cls, request: ApprovalRequired | ApprovalRequest | str, *, reviewer: str | None = None,
               reason: str | None = None) -> ApprovalResponse:
        return cls.answer(request, {"type": "reject", "reviewer": reviewer, "reason": reason})

    @classmethod
    def respond(cls, request: ApprovalRequired | ApprovalRequest | str, message: str, *,
                reviewer: str | None = None, reason: str | None = None) -> ApprovalResponse:
        return cls.answer(request, {"type": "respond", "message": message, "reviewer": reviewer,
                                    "reason": reason})


class ApprovalRefused(Event):
    """An :class:`ApprovalResponse` that ``AIRSWorkflow`` did not use: the run does not wait on its request (it
    was answered already, belongs to another run, or is unknown). Written to the stream; nothing else changes."""

    request_id: str
    reason: str


class InputChecked(Event):
    """The user's message passed the input guard (``AIRSWorkflow``)."""

    user_msg: str
    context: dict[str, Any]


class AgentAnswered(Event):
    """The wrapped agent produced a draft answer that the output guard has not seen yet."""

    answer: str
    context: dict[str, Any]
    structured: dict[str, Any] | None = None
    """The agent's ``structured_response`` (``output_cls`` / ``structured_output_fn``), if any."""


class OutputChecked(Event):
    """The output guard and judge decided; ``decision`` is the ``Decision`` JSON.

    ``payload`` is what was checked: the answer, joined by ``separator`` with the structured response's
    JSON when there is one (one decision covers both)."""

    answer: str
    decision: dict[str, Any]
    payload: str = ""
    separator: str | None = None
    structured: dict[str, Any] | None = None


def _prompt(req: ApprovalRequest) -> str:
    what = f"tool call {req.tool_name!r}" if req.tool_name else req.channel.value
    return f"AIRS needs approval for {what} ({req.risk_tier.value}): {req.reason}".strip()
