"""``Shield``: the one door. ``check_*`` and ``acheck_*`` are thin drivers over ``_pipeline.decide``."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from ._canonical import canonical_args, new_id
from ._context import detached
from ._decision import (
    Action,
    ApprovalDecision,
    ApprovalRequest,
    Channel,
    Decision,
    JudgeVerdict,
    Layer,
    RiskTier,
    RunContext,
    Status,
    Subject,
    digest_text,
)
from ._errors import ApprovalFormatError, PolicyError
from ._judge_pool import JudgeBusy, PooledCall, run_off_loop
from ._ledger import ExecutionLedger, open_ledger
from ._pipeline import Compiled, JudgeRequest, apply_redactions, args_of, decide
from ._policy import CheckConfig, Policy, load_policy
from ._preview import shown as shown_preview
from ._taint import as_read
from .audit import FlightRecorder, open_recorder
from .checks import build_suite, policy_checks

_TOOL_TIERED = frozenset({Channel.TOOL_CALL, Channel.TOOL_RESULT, Channel.RETRIEVED})
"""Channels whose subjects take the tier of the tool (or retriever) they come from."""

_NOT_AUDITED: set[str] = {"redact_label", "redact_spans"}
"""Finding fields that only steer redaction; the audited finding is the evidence (DESIGN §7)."""

ContextIn = RunContext | Mapping[str, Any] | None


def stringify(output: Any) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    content = getattr(output, "content", None)
    if isinstance(content, str):
        return content
    try:
        return json.dumps(output, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(output)


class Shield:
    """Runtime security for one policy: L1 checks, routing, judge seam, approvals and audit.

    >>> shield = Shield.default()
    >>> shield.check_input("hello").action.value
    'allow'
    """

    def __init__(
        self,
        policy: Policy | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        *,
        judge: Any = None,
        audit: FlightRecorder | str | os.PathLike[str] | None = None,
        checks: list[Any] | None = None,
        ledger: ExecutionLedger | str | os.PathLike[str] | None = None,
    ) -> None:
        from .judge import as_judge

        self.policy = load_policy(policy if not isinstance(policy, os.PathLike) else str(policy))
        self.judge = _judge_for(self.policy, as_judge(judge)) if self.policy.judge.enabled else None
        self.recorder: FlightRecorder = open_recorder(audit)
        # a ledger file is keyed like the trail: a key given to the recorder alone must not leave it unsigned
        self.ledger: ExecutionLedger = open_ledger(ledger, key=getattr(self.recorder, "signing_key", None))
        configs = policy_checks(self.policy)
        built = build_suite(self.policy, configs)
        for extra in checks or ():
            cfg = CheckConfig(id=extra.id)
            built.append((extra, cfg))
            configs.append(cfg)
        self._compiled = Compiled(self.policy, tuple(built), {c.id: c for c in configs})

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def default(cls, **kwargs: Any) -> Shield:
        """The embedded default policy; no file needed."""
        return cls(None, **kwargs)

    @classmethod
    def from_policy(cls, source: Policy | Mapping[str, Any] | str | Path, **kwargs: Any) -> Shield:
        return cls(source, **kwargs)

    def attach_judge(self, judge: Any) -> None:
        """Attach a judge (what an adapter's ``judge=`` argument does; adapters never route). A policy that
        turns the judge off (``judge.enabled: false``) wins here as it does in the constructor."""
        from .judge import as_judge

        if judge is not None and self.policy.judge.enabled:
            self.judge = _judge_for(self.policy, as_judge(judge))

    @property
    def policy_hash(self) -> str:
        return self.policy.hash

    # -- subjects ------------------------------------------------------------------------------
    def _ctx(self, context: ContextIn, ids: Mapping[str, str | None]) -> RunContext:
        ctx = RunContext.coerce(context, **ids)
        fill = {k: v for k, v in ids.items() if v is not None and getattr(ctx, k) is None}
        return ctx.model_copy(update=fill) if fill else ctx

    def subject_input(self, text: str, *, context: ContextIn = None, **ids: str | None) -> Subject:
        return self._text_subject(Channel.USER_INPUT, text, context, ids)

    def subject_output(self, text: str, *, context: ContextIn = None,
                       output_schema: Mapping[str, Any] | None = None, interim: bool = False,
                       structured: Sequence[Any] | None = None, instructions: str | None = None,
                       **ids: str | None) -> Subject:
        """``interim``: the text comes with tool calls (not the answer); ``structured``: the answer's structured
        values, which the output schema is checked against instead of the text; ``instructions``: the model's
        system prompt, so that a recital of it is caught (see ``Subject``)."""
        return self._text_subject(Channel.MODEL_OUTPUT, text, context, ids,
                                  output_schema=dict(output_schema) if output_schema else None, interim=interim,
                                  structured=tuple(structured) if structured else None,
                                  instructions=instructions or None)

    def _text_subject(self, channel: Channel, text: Any, context: ContextIn, ids: Mapping[str, str | None],
                      **extra: Any) -> Subject:
        return Subject(channel=channel, payload=_safe_text(text), context=self._ctx(context, ids),
                       risk_tier=self.policy.tier_for_channel(channel),
                       max_scan_bytes=self.policy.max_scan_bytes, **extra)

    def subject_tool_call(self, name: str, args: Mapping[str, Any] | None, *, context: ContextIn = None,
                          tool_call_id: str | None = None, instructions: str | None = None,
                          **ids: str | None) -> Subject:
        tool = self.policy.tool(name)
        safe_args = _safe_args(args)
        return Subject(channel=Channel.TOOL_CALL, payload=canonical_args(safe_args), tool_name=name,
                       tool_args=safe_args, tool_call_id=tool_call_id,
                       risk_tier=self.policy.tier_for_tool(Channel.TOOL_CALL, name),
                       side_effect=tool.side_effect, context=self._ctx(context, ids),
                       max_scan_bytes=self.policy.max_scan_bytes, instructions=instructions or None)

    def subject_tool_result(self, name: str, output: Any, *, context: ContextIn = None,
                            tool_call_id: str | None = None, **ids: str | None) -> Subject:
        return self._result_subject(name, output, context, tool_call_id, Channel.TOOL_RESULT, ids)

    def subject_retrieved(self, text: str, *, source: str = "retriever", context: ContextIn = None,
                          **ids: str | None) -> Subject:
        return self._result_subject(source, text, context, None, Channel.RETRIEVED, ids)

    def _result_subject(self, name: str, output: Any, context: ContextIn, tool_call_id: str | None,
                        channel: Channel, ids: Mapping[str, str | None]) -> Subject:
        tool = self.policy.tool(name)
        return Subject(channel=channel, payload=_safe_text(stringify(output)), tool_name=name,
                       tool_call_id=tool_call_id, source=name, risk_tier=self.policy.tier_for_tool(channel, name),
                       side_effect=tool.side_effect, context=self._ctx(context, ids),
                       max_scan_bytes=self.policy.max_scan_bytes)

    # -- sync API ------------------------------------------------------------------------------
    def check(self, subject: Subject) -> Decision:
        """Decide on a prepared subject (the sync driver)."""
        return self._finish(drive(self._start(subject), self._judge_sync), subject)

    def check_input(self, text: str, *, context: ContextIn = None, **ids: str | None) -> Decision:
        return self.check(self.subject_input(text, context=context, **ids))

    def check_output(self, text: str, *, context: ContextIn = None,
                     output_schema: Mapping[str, Any] | None = None, interim: bool = False,
                     structured: Sequence[Any] | None = None, instructions: str | None = None,
                     **ids: str | None) -> Decision:
        return self.check(self.subject_output(text, context=context, output_schema=output_schema, interim=interim,
                                              structured=structured, instructions=instructions, **ids))

    def check_tool_call(self, name: str, args: Mapping[str, Any] | None = None, *,
                        context: ContextIn = None, tool_call_id: str | None = None,
                        instructions: str | None = None, **ids: str | None) -> Decision:
        return self.check(self.subject_tool_call(name, args, context=context, tool_call_id=tool_call_id,
                                                 instructions=instructions, **ids))

    def check_tool_result(self, name: str, output: Any, *, context: ContextIn = None,
                          tool_call_id: str | None = None, **ids: str | None) -> Decision:
        return self.check(self.subject_tool_result(name, output, context=context,
                                                   tool_call_id=tool_call_id, **ids))

    def check_retrieved(self, text: str, *, source: str = "retriever", context: ContextIn = None,
                        **ids: str | None) -> Decision:
        return self.check(self.subject_retrieved(text, source=source, context=context, **ids))

    # -- async API -----------------------------------------------------------------------------
    async def acheck(self, subject: Subject) -> Decision:
        """Decide on a prepared subject (the async driver: the judge is awaited)."""
        return self._finish(await adrive(self._start(subject), self._judge_async), subject)

    async def acheck_input(self, text: str, *, context: ContextIn = None, **ids: str | None) -> Decision:
        return await self.acheck(self.subject_input(text, context=context, **ids))

    async def acheck_output(self, text: str, *, context: ContextIn = None,
                            output_schema: Mapping[str, Any] | None = None, interim: bool = False,
                            structured: Sequence[Any] | None = None, instructions: str | None = None,
                            **ids: str | None) -> Decision:
        return await self.acheck(self.subject_output(text, context=context, output_schema=output_schema,
                                                     interim=interim, structured=structured,
                                                     instructions=instructions, **ids))

    async def acheck_tool_call(self, name: str, args: Mapping[str, Any] | None = None, *,
                               context: ContextIn = None, tool_call_id: str | None = None,
                               instructions: str | None = None, **ids: str | None) -> Decision:
        return await self.acheck(self.subject_tool_call(name, args, context=context, tool_call_id=tool_call_id,
                                                        instructions=instructions, **ids))

    async def acheck_tool_result(self, name: str, output: Any, *, context: ContextIn = None,
                                 tool_call_id: str | None = None, **ids: str | None) -> Decision:
        return await self.acheck(self.subject_tool_result(name, output, context=context,
                                                          tool_call_id=tool_call_id, **ids))

    async def acheck_retrieved(self, text: str, *, source: str = "retriever", context: ContextIn = None,
                               **ids: str | None) -> Decision:
        return await self.acheck(self.subject_retrieved(text, source=source, context=context, **ids))

    # -- drivers' shared parts -----------------------------------------------------------------
    def _start(self, subject: Subject) -> Generator[JudgeRequest, JudgeVerdict, Decision]:
        return decide(self._compiled, subject, correlation_id=new_id(),
                      judge_available=self.judge is not None)

    def _finish(self, decision: Decision, subject: Subject) -> Decision:
        self.recorder.append("decision", self._audit_body(decision, subject))
        return decision

    def _judge_sync(self, request: JudgeRequest) -> JudgeVerdict:
        judge = self.judge
        assert judge is not None  # decide() only asks when a judge is attached
        call = PooledCall(judge.evaluate, request, context=detached())
        started = time.perf_counter()
        try:
            future = call.submit()
            return _verdict(future.result(timeout=request.budget_ms / 1000), started)
        # nothing cancels this thread's wait: a CancelledError is the judge's own (not an Exception, it escaped)
        except (Exception, asyncio.CancelledError) as exc:
            call.abandon()
            return _judge_failure(request, exc)

    async def _judge_async(self, request: JudgeRequest) -> JudgeVerdict:
        judge = self.judge
        assert judge is not None  # decide() only asks when a judge is attached
        started = time.perf_counter()
        budget = request.budget_ms / 1000
        try:
            work = (judge.aevaluate(request) if hasattr(judge, "aevaluate")
                    else run_off_loop(judge.evaluate, request, context=detached()))
            task = asyncio.get_running_loop().create_task(_timed(work), context=detached())
            verdict, finished = await _within(task, budget)
            if finished - started > budget:
                # a judge that blocks the event loop (a blocking call inside its coroutine) holds the loop, and
                # the budget's timer with it, until it returns: late, its verdict is not the one that counts
                raise TimeoutError
            return _verdict(verdict, started)
        except Exception as exc:
            return _judge_failure(request, exc)

    def _audit_body(self, decision: Decision, subject: Subject) -> dict[str, Any]:
        ctx = decision.context
        body: dict[str, Any] = {
            "correlation_id": decision.correlation_id,
            "run_id": ctx.run_id,
            "thread_id": ctx.thread_id,
            "agent_id": ctx.agent_id,
            "policy_hash": decision.policy_hash,
            "channel": decision.channel.value,
            "tool_name": decision.tool_name,
            "tool_call_id": decision.tool_call_id,
            "action": decision.action.value,
            "layer": decision.layer.value,
            "status": decision.status.value,
            "enforced": decision.enforced,
            "risk_tier": decision.risk_tier.value,
            "latency_ms": decision.latency_ms,
            "reason": decision.reason,
            "subject_digest": subject.digest,
            "findings": [f.model_dump(mode="json", exclude=_NOT_AUDITED) for f in decision.findings],
            "judge": decision.judge.model_dump(mode="json") if decision.judge else None,
            "tainted": ctx.tainted,
        }
        if decision.redacted is not None:
            body["redacted"] = (decision.redacted if self.policy.audit.store_text == "redacted"
                                else digest_text(decision.redacted))
        return body

    def record(self, kind: str, body: Mapping[str, Any]) -> None:
        """Append an event (tool execution, callback event…) to the flight recorder."""
        self.recorder.append(kind, {**body, "policy_hash": self.policy.hash})

    # -- approvals (L3 seam) -------------------------------------------------------------------
    def approval_request(self, decision: Decision, *, tool_args: Mapping[str, Any] | None = None,
                         payload_preview: str = "", request_id: str | None = None) -> ApprovalRequest:
        """The evidence a reviewer sees for a ``require_approval`` decision.

        A long ``payload_preview`` is shown by its start and the passages the findings point at (see ``_preview``).
        Any other decision is refused: a reviewer's approval of a request turns it into ``allow``, which must never
        happen to a block."""
        if decision.action is not Action.REQUIRE_APPROVAL:
            msg = (f"approval_request takes a require_approval decision, not {decision.action.value!r}: an approval "
                   "of the request would allow what the decision did not")
            raise ValueError(msg)
        profile = self.policy.profile(decision.risk_tier)
        allowed: tuple[Any, ...] = ("approve", "edit", "reject", "respond") if decision.channel is \
            Channel.TOOL_CALL else ("approve", "reject", "respond")
        shown_args, preview = _evidence(decision, tool_args, payload_preview)
        req = ApprovalRequest(
            id=request_id or f"apr-{decision.correlation_id}",
            channel=decision.channel, tool_name=decision.tool_name,
            tool_args=shown_args, tool_call_id=decision.tool_call_id, payload_preview=preview,
            findings=decision.findings, judge=decision.judge, reason=decision.reason,
            risk_tier=decision.risk_tier, policy_hash=decision.policy_hash,
            correlation_id=decision.correlation_id, run_id=decision.context.run_id,
            thread_id=decision.context.thread_id, agent_id=decision.context.agent_id,
            expires_at=ApprovalRequest.deadline(profile.review_sla_s),
            approvals_required=profile.approvers, allowed_decisions=allowed,
        )
        self.recorder.append("approval_request", {
            "correlation_id": decision.correlation_id, "run_id": req.run_id, "thread_id": req.thread_id,
            "agent_id": req.agent_id, "request_id": req.id, "tool_name": req.tool_name,
            "tool_call_id": req.tool_call_id,
            "risk_tier": req.risk_tier.value, "policy_hash": req.policy_hash,
            "expires_at": req.expires_at.isoformat() if req.expires_at else None,
            "approvals_required": req.approvals_required,
        })
        return req

    def resolve_approval(self, request: ApprovalRequest, answer: Any, *, now: datetime | None = None,
                         tool_args: Mapping[str, Any] | None = None, context: ContextIn = None,
                         held: str | None = None) -> Decision:
        """Turn a human's answer into the final Decision (layer ``human``), recorded in the audit.

        Expired ⇒ block (never auto-approve); the deadline is the request's own, or the earlier one the policy in
        force gives it when that changed since (see :meth:`approval_deadline`). Answers not allowed by the request
        ⇒ block. An answer that cannot be read as an ``ApprovalDecision`` ⇒ block, its reason saying what a valid
        answer looks like. An edit is re-checked as a new tool call (a block there stands); a respond or reject
        never runs the tool. ``tool_args``: the arguments the approved call runs with, for the re-check of a
        request raised under another policy (the request shows them with secrets masked, so it cannot stand in
        for them). ``held``: for a request on anything but a tool call (a tool's result, an answer, an input),
        the text an approval releases, as it is held (redactions applied): an approval of a request raised under
        another policy re-checks it under the policy in force, which may block it, or redact it (then
        ``decision.released(held)`` is the redacted text); not given, such an approval is denied.
        ``context``: the run's context (the decision's that asked, or later): the re-check reads what the run has
        read, so that an edit cannot bring in a value the taint rules block in the model's own call, and the
        decision carries it back. Without it the re-check knows no taint and the decision only the run's ids.
        """
        return drive(self._resolution(request, answer, now, tool_args, context, held), self.check)

    async def aresolve_approval(self, request: ApprovalRequest, answer: Any, *,
                                now: datetime | None = None, tool_args: Mapping[str, Any] | None = None,
                                context: ContextIn = None, held: str | None = None) -> Decision:
        """The async twin of :meth:`resolve_approval` (a re-check awaits the judge)."""
        return await adrive(self._resolution(request, answer, now, tool_args, context, held), self.acheck)

    def approval_deadline(self, request: ApprovalRequest) -> datetime | None:
        """When ``request`` expires for this Shield: its own deadline, or, when it was raised under another
        policy, the one the policy in force gives its tier (raised at + that tier's review SLA) if that is
        earlier. Never later: an operator who shortens the SLA expects the open requests to expire under it,
        and one who lengthens it has not answered them."""
        own = request.expires_at
        if not self._stale(request):
            return own
        sla = self.policy.profile(self._tier_now(request)).review_sla_s
        if sla is None:
            return own
        now_gives = request.created_at + timedelta(seconds=sla)
        return now_gives if own is None or now_gives < own else own

    def _resolution(self, request: ApprovalRequest, answer: Any, now: datetime | None,
                    tool_args: Mapping[str, Any] | None, context: ContextIn,
                    held: str | None) -> Generator[Subject, Decision, Decision]:
        run = _request_context(request) if context is None else RunContext.coerce(context)
        try:
            parsed = ApprovalDecision.coerce_all(answer)
        except ApprovalFormatError as exc:
            # a framework keeps the resume value with the paused task, so raising would only raise again on
            # every later resume of it: an answer nobody can read denies, with the reason, like an expiry
            parsed = [ApprovalDecision(type="reject", reviewer="airs:unreadable-answer", reason=str(exc))]
            action, reason = Action.BLOCK, f"denied: {exc}"
        else:
            action, reason = _resolve(self._as_now(request), parsed, now or datetime.now(UTC))
        first = parsed[0]
        redacted_args = first.args if action is Action.REDACT else None
        redacted: str | None = None
        stale = self._stale(request)
        is_call = request.channel is Channel.TOOL_CALL
        if is_call and ((action is Action.REDACT and request.tool_name is not None)
                        or (action is Action.ALLOW and stale and request.tool_name is not None)):
            # A reviewer's edit is checked like a new call: the policy (deny list, argument schema,
            # rules, secrets) still applies. So is an approved call whose request another policy raised
            # (the operator changed it meanwhile): the approval does not outlive the rules it was asked
            # under. The approval satisfies approval gates and taint, so only a block stands.
            ctx = _read_so_far(run)
            runs = redacted_args if action is Action.REDACT else _runs_with(request, tool_args)
            if runs is None and action is Action.ALLOW:
                # what the request shows is not what runs (its secrets masked): re-checked, the masked arguments
                # would pass a call the policy now blocks, or block one it allows
                action, reason = Action.BLOCK, ("the policy changed since the request, and the arguments the call "
                                                "runs with were not given to re-check it under the new one (the "
                                                "request masks their secrets); denied, ask again")
            else:
                recheck = yield self.subject_tool_call(request.tool_name or "", runs or {}, context=ctx,
                                                       tool_call_id=request.tool_call_id)
                if recheck.action is Action.BLOCK:
                    why = "edited arguments blocked" if action is Action.REDACT else \
                        "the policy in force now (changed since the request) blocks the call"
                    action, reason, redacted_args = Action.BLOCK, f"{why}: {recheck.reason}", None
        elif not is_call and action is Action.ALLOW and stale:
            # the same rule for what a reviewer releases: a result, an answer or an input held under the rules
            # it was asked under is released under the rules in force
            action, reason, redacted = yield from self._held_recheck(request, held, _read_so_far(run), reason)
        decision = Decision(
            action=action, layer=Layer.HUMAN, status=Status.OK, enforced=self.policy.enforcing,
            findings=request.findings, risk_tier=request.risk_tier, policy_hash=request.policy_hash,
            correlation_id=request.correlation_id, channel=request.channel, tool_name=request.tool_name,
            tool_call_id=request.tool_call_id, reason=reason, judge=request.judge, approval=first,
            approval_request_id=request.id, redacted_args=redacted_args, redacted=redacted, context=run,
        )
        self.recorder.append("approval", {
            "correlation_id": request.correlation_id, "run_id": request.run_id,
            "thread_id": request.thread_id, "agent_id": request.agent_id, "request_id": request.id,
            "action": action.value,
            "answers": [p.model_dump(mode="json", exclude={"args"}) for p in parsed],
            # only an edit runs other arguments; args sent with an approve are not used, so not recorded as used
            "edited_args_digest": digest_text(canonical_args(first.args))
            if first.type == "edit" and first.args is not None else None,
            "policy_hash": request.policy_hash, "reason": reason,
        })
        return decision

    def _held_recheck(self, request: ApprovalRequest, held: str | None, ctx: RunContext,
                      reason: str) -> Generator[Subject, Decision, tuple[Action, str, str | None]]:
        """An approval of held content whose request another policy raised, under the policy in force: a block
        there stands, a redaction is applied to what is released (the action, reason and redacted text), and the
        approval satisfies the approval gates."""
        if held is None:
            # fail closed like a call whose real arguments were not given: the preview is not the content
            return Action.BLOCK, (f"the policy changed since the request, and the held {request.channel.value} was "
                                  "not given to re-check it under the new one; denied, ask again"), None
        recheck = yield self._held_subject(request, held, ctx)
        if recheck.action is Action.BLOCK:
            return Action.BLOCK, (f"the policy in force now (changed since the request) blocks the held "
                                  f"{request.channel.value}: {recheck.reason}"), None
        if recheck.rewritten is not None:
            return Action.REDACT, (f"{reason}; redacted under the policy in force now (changed since the request): "
                                   f"{recheck.reason}"), recheck.rewritten
        return Action.ALLOW, reason, None

    def _held_subject(self, request: ApprovalRequest, held: str, ctx: RunContext) -> Subject:
        """``held`` as the channel its request was raised on checks it."""
        if request.channel is Channel.TOOL_RESULT:
            return self.subject_tool_result(request.tool_name or "", held, context=ctx,
                                            tool_call_id=request.tool_call_id)
        if request.channel is Channel.RETRIEVED:
            return self.subject_retrieved(held, source=request.tool_name or "retriever", context=ctx)
        return self._text_subject(request.channel, held, ctx, {})

    def _stale(self, request: ApprovalRequest) -> bool:
        """A request raised under another policy than this Shield's."""
        return request.policy_hash != self.policy.hash

    def _tier_now(self, request: ApprovalRequest) -> RiskTier:
        """The tier the policy in force gives what ``request`` is about."""
        if request.tool_name is not None and request.channel in _TOOL_TIERED:
            return self.policy.tier_for_tool(request.channel, request.tool_name)
        return self.policy.tier_for_channel(request.channel)

    def _as_now(self, request: ApprovalRequest) -> ApprovalRequest:
        """``request`` as the policy in force judges it, when another raised it: as many approvers as it asks for
        that tier, if that is more, and its deadline (see :meth:`approval_deadline`)."""
        if not self._stale(request):
            return request
        needed = self.policy.profile(self._tier_now(request)).approvers
        return request.model_copy(update={"approvals_required": max(needed, request.approvals_required),
                                          "expires_at": self.approval_deadline(request)})

    def count_retry(self, context: ContextIn = None) -> tuple[RunContext, str | None]:
        """Count one retry the agent is about to make (``judge_node`` asking the model again for an answer that
        failed review): the context with it counted, and None; or, when the policy's ``caps.retries`` is reached
        (enforced by ``limit.caps``, in enforce mode), the context unchanged and the reason, which names the cap.
        The count starts again at each user input."""
        from .checks.limits import RunCaps

        ctx = RunContext.coerce(context)
        if self.policy.enforcing:
            for check, _cfg in self._compiled.checks:
                reason = check.refuses_retry(ctx) if isinstance(check, RunCaps) else None
                if reason is not None:
                    return ctx, reason
        return ctx.model_copy(update={"retries": ctx.retries + 1}), None

    def session(self, **ids: str | None) -> ShieldSession:
        """A convenience that keeps the RunContext between calls, in memory."""
        return ShieldSession(self, RunContext.coerce(None, **ids))


Y = TypeVar("Y")
S = TypeVar("S")
R = TypeVar("R")


def _evidence(decision: Decision, tool_args: Mapping[str, Any] | None,
              preview: str) -> tuple[dict[str, Any] | None, str]:
    """The arguments and preview an approval request shows, with secrets replaced by their labels.

    The request travels wherever the framework shows interrupts, often to the very user who started the
    run; a reviewer needs to know that a secret is there, never its value. The findings' spans index the
    decision's payload: the canonical JSON of the arguments, or the text itself."""
    found = [f for f in decision.findings if f.category == "secret" and (f.spans or f.redact_spans)]
    args = dict(tool_args) if tool_args is not None else None
    if found and args is not None and decision.channel is Channel.TOOL_CALL:
        masked = args_of(apply_redactions(canonical_args(_safe_args(args)), found))
        args = masked if masked is not None else {"withheld": "the arguments carry a secret (see the findings)"}
    if decision.channel is Channel.TOOL_CALL:  # the spans index the arguments, not this text
        return args, shown_preview(preview, ())
    return args, shown_preview(preview, decision.findings, found)


class JudgeCancelled(Exception):
    """The judge's call was cancelled from inside the judge (not by the agent, not by the budget)."""


async def _within(task: asyncio.Task[Any], seconds: float) -> Any:
    """The judge task's result within ``seconds``, else :class:`TimeoutError`.

    Not ``asyncio.wait_for``: on a timeout it waits for the cancelled task to end and returns its result if it
    has one, so a judge that ignores cancellation held the decision past its budget (for ever, if it never
    ended) and its late verdict counted. Here the task is cancelled and left behind."""
    try:
        done, _ = await asyncio.wait((task,), timeout=seconds)
    except BaseException:  # the agent itself is cancelled: so is the judge call it was waiting on
        _leave(task)
        raise
    if not done:
        _leave(task)
        raise TimeoutError
    if task.cancelled():  # CancelledError from within the judge: for the caller it would read as its own
        raise JudgeCancelled
    return task.result()


async def _timed(work: Awaitable[Any]) -> tuple[Any, float]:
    """``work``'s result, and when it came (read inside the task, before the loop runs anything else)."""
    out = await work
    return out, time.perf_counter()


def _leave(task: asyncio.Task[Any]) -> None:
    task.cancel()
    # nobody awaits it any more: a late error would be logged as never retrieved
    task.add_done_callback(lambda t: t.cancelled() or t.exception())


def _judge_for(policy: Policy, judge: Any) -> Any:
    """``judge``, when it can grade against the policy's ``judge.rubric``; a judge that would not (a
    :class:`~airs_plugins.judge.Judge` following the policy, which knows no rubric of that name) is a policy
    error now rather than a fail mode on every call it is asked."""
    from .judge import Judge

    problem = judge.missing_rubric(policy.judge.rubric) if isinstance(judge, Judge) else None
    if problem is not None:
        raise PolicyError("judge.rubric", problem)
    return judge


def _judge_failure(request: JudgeRequest, exc: BaseException) -> JudgeVerdict:
    """A judge that timed out or failed: a verdict whose status the router maps to the tier's fail mode."""
    if isinstance(exc, (asyncio.CancelledError, JudgeCancelled)):
        return JudgeVerdict(status=Status.ERROR, rationale="judge cancelled: its own call was cancelled, not by us")
    if isinstance(exc, JudgeBusy):
        return JudgeVerdict(status=Status.TIMEOUT, rationale=str(exc))
    if isinstance(exc, TimeoutError):  # also concurrent.futures.TimeoutError (an alias since 3.11)
        return JudgeVerdict(status=Status.TIMEOUT, latency_ms=request.budget_ms,
                            rationale=f"judge exceeded the {request.budget_ms:.0f} ms budget")
    return JudgeVerdict(status=Status.ERROR, rationale=f"judge failed: {type(exc).__name__}: {exc}"[:300])


def drive(gen: Generator[Y, S, R], step: Callable[[Y], S]) -> R:
    """Run a no-I/O generator to its return value, answering each yielded request with ``step``.

    An exception raised by ``step`` is thrown back into the generator at its ``yield`` (it may record
    it and go on, or let it propagate)."""
    try:
        request = next(gen)
        while True:
            try:
                answer = step(request)
            except Exception as exc:
                request = gen.throw(exc)
                continue
            request = gen.send(answer)
    except StopIteration as stop:
        result: R = stop.value
    return result


async def adrive(gen: Generator[Y, S, R], step: Callable[[Y], Awaitable[S]]) -> R:
    """The async twin of :func:`drive`: each request is answered by awaiting ``step``."""
    try:
        request = next(gen)
        while True:
            try:
                answer = await step(request)
            except Exception as exc:
                request = gen.throw(exc)
                continue
            request = gen.send(answer)
    except StopIteration as stop:
        result: R = stop.value
    return result


def _request_context(request: ApprovalRequest) -> RunContext:
    """The ids of the run that asked, for the decision a reviewer's answer resolves to."""
    return RunContext(run_id=request.run_id or uuid.uuid4().hex, thread_id=request.thread_id,
                      agent_id=request.agent_id)


def _read_so_far(ctx: RunContext) -> RunContext:
    """What a re-check on a reviewer's answer knows of the run: its ids and what it has read (taint), not its cap
    counters, which already counted this call when it was decided (counted again, a cap would deny it)."""
    return RunContext(run_id=ctx.run_id, thread_id=ctx.thread_id, agent_id=ctx.agent_id, user_goal=ctx.user_goal,
                      observations=ctx.observations)


def _resolve(request: ApprovalRequest, answers: list[ApprovalDecision], now: datetime) -> tuple[Action, str]:
    if request.expired(now):
        return Action.BLOCK, "approval expired before a decision; denied (never auto-approved)"
    stray = next((a.request_id for a in answers if a.request_id is not None and a.request_id != request.id), None)
    if stray is not None:
        # a framework hands a bare resume value to whatever is paused now, which may be a later request than
        # the one the reviewer saw: an answer that names another request settles nothing here
        return Action.BLOCK, (f"the answer names request {stray!r}, not this one ({request.id!r}); denied: the "
                              "reviewer answered another call")
    first = answers[0]
    if first.type not in request.allowed_decisions:
        return Action.BLOCK, f"decision {first.type!r} is not allowed for this request; denied"
    if first.type == "reject":
        why = first.reason or first.message or ""
        return Action.BLOCK, f"rejected by {first.reviewer or 'reviewer'}: {why}".strip()
    if first.type == "respond":
        return Action.BLOCK, f"answered by {first.reviewer or 'reviewer'} instead of running the call"
    approvers = _approvers(answers)
    dissent = next((a for a in answers if a.type in ("reject", "respond")), None)
    if dissent is not None:
        # a reviewer who rejects, or answers instead of letting the call run, is not outvoted by coming second
        did = "rejected" if dissent.type == "reject" else "answered instead of running the call"
        return Action.BLOCK, f"a second reviewer ({dissent.reviewer or 'unnamed'}) {did}; denied"
    if len(approvers) < request.approvals_required:
        return Action.BLOCK, (f"needs {request.approvals_required} distinct approvers, got {len(approvers)} "
                              "(answers that name no reviewer count as one, and only when none names one); denied")
    if len({_what_runs(a, request) for a in answers if a.type in ("approve", "edit")}) > 1:
        # each approver vouches for the call they answered: an approval of the call as it was is not one of
        # another reviewer's edit, nor one edit of another
        return Action.BLOCK, "the approvers disagree on what runs (the call as it was, or different edits); denied"
    if first.type == "edit":
        if first.args is None:
            return Action.BLOCK, "edit without arguments; denied"
        if first.name is not None and first.name != request.tool_name:
            # running another tool than the one decided is not an edit: that tool gets no decision of its own
            return Action.BLOCK, (
                f"the reviewer's edit names another tool ({first.name!r} instead of {request.tool_name!r}); an "
                "edit can only change the arguments of the call it answers, so this call was refused. To run "
                f"{first.name!r}, reject this call and let the model call that tool")
        return Action.REDACT, f"edited by {first.reviewer or 'reviewer'}"
    return Action.ALLOW, f"approved by {', '.join(sorted(approvers))}"


def _runs_with(request: ApprovalRequest, tool_args: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The arguments an approved call runs with: the caller's, else the request's when they are the call's own
    (None when the request masked a secret in them, see :func:`_evidence`)."""
    if tool_args is not None:
        return dict(tool_args)
    masked = any(f.category == "secret" and (f.spans or f.redact_spans) for f in request.findings)
    return None if masked else dict(request.tool_args or {})


def _what_runs(answer: ApprovalDecision, request: ApprovalRequest) -> str:
    """What an approving answer lets run: the call as it was, or an edit of it (its tool and arguments)."""
    if answer.type != "edit":
        return "as asked"
    return f"{answer.name or request.tool_name}\n{canonical_args(answer.args or {})}"


def _approvers(answers: list[ApprovalDecision]) -> set[str]:
    """Who approved, one entry per person. Answers that name nobody may all come from one person, even one
    who also answered by name, so they count only when no answer names anyone; names are compared as people
    read them ("Ann " is "ann", and so is "an\u200bn" or a full-width "ａｎｎ")."""
    approving = [" ".join(as_read(a.reviewer or "").split()) for a in answers if a.type in ("approve", "edit")]
    named: dict[str, str] = {}
    for name in approving:
        if name:
            named.setdefault(name.casefold(), name)
    if named:
        return set(named.values())
    return {"anonymous"} if approving else set()


def _verdict(v: Any, started: float) -> JudgeVerdict:
    """The judge's answer read as a verdict, with the time it took (unless the judge measured it itself)."""
    from .judge import coerce_verdict

    verdict = coerce_verdict(v)
    if verdict.latency_ms:
        return verdict
    return verdict.model_copy(update={"latency_ms": round((time.perf_counter() - started) * 1000, 4)})


def _safe_text(value: Any) -> str:
    text = value if isinstance(value, str) else stringify(value)
    # lone surrogates cannot be encoded; keep offsets by replacing each with one character
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join(ch if not 0xD800 <= ord(ch) <= 0xDFFF else "\ufffd" for ch in text)
    return text


def _safe_args(args: Mapping[str, Any] | None, depth: int = 0) -> dict[str, Any]:
    if args is None:
        return {}
    if not isinstance(args, Mapping):
        return {"input": _jsonable(args, depth)}
    return {str(k): _jsonable(v, depth + 1) for k, v in args.items()}


def _jsonable(v: Any, depth: int) -> Any:
    if depth > 64:
        return "<too deep>"
    if v is None or isinstance(v, (bool, int, float)):
        return v
    if isinstance(v, str):
        return _safe_text(v)
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_jsonable(x, depth + 1) for x in v]
    return _safe_text(str(v))


class ShieldSession:
    """Keeps one run's :class:`RunContext` between calls (for direct use outside a framework).

    Calls on one session are decided one at a time, each on the context the one before left: run side by side
    (``asyncio.gather``, threads), each would start from the same context and the last to finish would keep
    only its own update, losing the others' reads (taint) and calls (caps), and every call would be counted
    against caps that did not see the others yet. Sync calls wait for sync calls, async for async ones."""

    def __init__(self, shield: Shield, context: RunContext) -> None:
        self.shield = shield
        self.context = context
        self._lock = threading.Lock()
        self._async_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def _decide(self, check: Callable[[RunContext], Decision]) -> Decision:
        with self._lock:
            d = check(self.context)
            self.context = d.context
            return d

    async def _adecide(self, check: Callable[[RunContext], Awaitable[Decision]]) -> Decision:
        async with self._loop_lock():
            d = await check(self.context)
            self.context = d.context
            return d

    def _loop_lock(self) -> asyncio.Lock:
        # an asyncio.Lock belongs to the loop it first waited on: a session reused under a later asyncio.run
        # gets a lock of that loop's
        loop = asyncio.get_running_loop()
        if self._async_lock is None or self._async_lock[0] is not loop:
            self._async_lock = (loop, asyncio.Lock())
        return self._async_lock[1]

    def check_input(self, text: str) -> Decision:
        return self._decide(lambda ctx: self.shield.check_input(text, context=ctx))

    def count_retry(self) -> str | None:
        """Count one retry in the session's context (:meth:`Shield.count_retry`): None, or why the policy's
        ``caps.retries`` refuses it (then nothing is counted)."""
        with self._lock:
            self.context, refused = self.shield.count_retry(self.context)
            return refused

    def check_output(self, text: str, **kw: Any) -> Decision:
        return self._decide(lambda ctx: self.shield.check_output(text, context=ctx, **kw))

    def check_tool_call(self, name: str, args: Mapping[str, Any] | None = None, **kw: Any) -> Decision:
        return self._decide(lambda ctx: self.shield.check_tool_call(name, args, context=ctx, **kw))

    def check_tool_result(self, name: str, output: Any, **kw: Any) -> Decision:
        return self._decide(lambda ctx: self.shield.check_tool_result(name, output, context=ctx, **kw))

    def check_retrieved(self, text: str, **kw: Any) -> Decision:
        return self._decide(lambda ctx: self.shield.check_retrieved(text, context=ctx, **kw))

    async def acheck_input(self, text: str) -> Decision:
        return await self._adecide(lambda ctx: self.shield.acheck_input(text, context=ctx))

    async def acheck_output(self, text: str, **kw: Any) -> Decision:
        return await self._adecide(lambda ctx: self.shield.acheck_output(text, context=ctx, **kw))

    async def acheck_tool_call(self, name: str, args: Mapping[str, Any] | None = None, **kw: Any) -> Decision:
        return await self._adecide(lambda ctx: self.shield.acheck_tool_call(name, args, context=ctx, **kw))

    async def acheck_tool_result(self, name: str, output: Any, **kw: Any) -> Decision:
        return await self._adecide(lambda ctx: self.shield.acheck_tool_result(name, output, context=ctx, **kw))

    async def acheck_retrieved(self, text: str, **kw: Any) -> Decision:
        return await self._adecide(lambda ctx: self.shield.acheck_retrieved(text, context=ctx, **kw))
