"""``decide()``: L1 checks → router → (judge) → Decision, as a generator that does no I/O.

It yields a :class:`JudgeRequest` when the router wants the judge and receives a
:class:`JudgeVerdict` back; ``Shield.check_*`` and ``acheck_*`` only drive it, so the sync and async
paths share every rule.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _router
from ._decision import (
    Action,
    Channel,
    Decision,
    Finding,
    JudgeVerdict,
    Layer,
    Observation,
    RunContext,
    Severity,
    Status,
    Subject,
    append_goal,
)
from ._observations import bounded
from ._taint import read_values, values_near

if TYPE_CHECKING:
    from ._policy import CheckConfig, Policy
    from .checks import Check

_MAX_SIGNATURES = 1024
_HOUR = 3600.0


@dataclass(frozen=True)
class JudgeRequest:
    """What the driver hands the judge: the subject, L1's findings and the time left."""

    subject: Subject
    findings: tuple[Finding, ...]
    reason: str
    budget_ms: float
    correlation_id: str
    rubric: str


@dataclass(frozen=True)
class Compiled:
    """A policy with its checks built once (per Shield)."""

    policy: Policy
    checks: tuple[tuple[Check, CheckConfig], ...]
    configs: Mapping[str, CheckConfig]


def run_checks(compiled: Compiled, subject: Subject) -> list[Finding]:
    findings: list[Finding] = []
    for check, cfg in compiled.checks:
        if subject.channel not in check.channels:
            continue
        try:
            findings.extend(check.run(subject))
        except Exception as exc:  # a buggy check must not crash the agent; it routes as uncertain
            findings.append(Finding(
                check=cfg.id, category="check_error", severity=Severity.HIGH, score=0.6,
                message=f"check {cfg.id!r} failed: {type(exc).__name__}: {exc}"[:300]))
    return findings


def decide(
    compiled: Compiled,
    subject: Subject,
    *,
    correlation_id: str,
    judge_available: bool,
) -> Generator[JudgeRequest, JudgeVerdict, Decision]:
    t0 = time.perf_counter()
    policy = compiled.policy
    profile = policy.profile(subject.risk_tier)
    findings = run_checks(compiled, subject)
    force = _forced_approval(policy, subject)
    r = _router.route(findings, compiled.configs, profile, correlation_id=correlation_id,
                      judge_available=judge_available, force_approval=force)
    action, layer, status, reason = r.action, r.layer, Status.OK, r.reason
    verdict: JudgeVerdict | None = None
    if r.ask_judge:
        spent = (time.perf_counter() - t0) * 1000
        remaining = profile.budget_ms - spent
        if remaining <= 0:
            verdict = JudgeVerdict(status=Status.TIMEOUT, rationale="latency budget spent before the judge")
        else:
            verdict = yield JudgeRequest(subject, tuple(findings), r.judge_reason, remaining,
                                         correlation_id, policy.judge.rubric)
        action, layer, status, reason = _router.apply_judge(r, verdict, profile)
    elif r.fail_mode_applied:
        status = Status.SKIPPED  # the judge layer that should have settled this did not run

    redacted: str | None = None
    redacted_args: dict[str, Any] | None = None
    # a reviewer's release never undoes a redaction the policy asks for: a result or an answer held for review
    # passes redacted when approved (a call's arguments run as the reviewer saw fit: approved as they are, or
    # edited)
    held = action is Action.REQUIRE_APPROVAL and subject.channel is not Channel.TOOL_CALL and bool(r.redact)
    if action is Action.REDACT or held:
        redacted = apply_redactions(subject.payload, r.redact)
        if subject.channel is Channel.TOOL_CALL:
            redacted_args = args_of(redacted)
            if redacted_args is None:  # a redaction that breaks the arguments is not safe to run: fail closed
                action, layer = Action.BLOCK, Layer.GUARDRAIL
                reason = "redaction would corrupt the tool arguments"
                redacted = None

    context = update_context(compiled, subject, findings, redacted=redacted)
    return Decision(
        action=action,
        layer=layer,
        status=status,
        enforced=policy.enforcing,
        findings=tuple(findings),
        risk_tier=subject.risk_tier,
        latency_ms=round((time.perf_counter() - t0) * 1000, 4),
        redacted=redacted,
        redacted_args=redacted_args,
        policy_hash=policy.hash,
        correlation_id=correlation_id,
        context=context,
        channel=subject.channel,
        tool_name=subject.tool_name,
        tool_call_id=subject.tool_call_id,
        reason=reason,
        judge=verdict,
    )


def _forced_approval(policy: Policy, subject: Subject) -> str | None:
    if subject.channel is not Channel.TOOL_CALL:
        return None
    tool = policy.tool(subject.tool_name or "")
    if tool.require_approval:
        return f"tool {subject.tool_name!r} requires human approval by policy"
    if policy.profile(subject.risk_tier).approve_tool_calls:
        return f"every {subject.risk_tier.value} tool call requires human approval"
    return None


def apply_redactions(text: str, findings: Sequence[Finding]) -> str:
    spans: list[tuple[int, int, str]] = []
    for f in findings:
        label = f.redact_label or f"[{f.category.upper()}]"
        scope = f.redact_spans if f.redact_spans is not None else f.spans
        spans.extend((s, e, label) for s, e in scope if 0 <= s < e <= len(text))
    if not spans:
        return text
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for s, e, label in spans:
        if merged and s < merged[-1][1]:
            ps, pe, plabel = merged[-1]
            merged[-1] = (ps, max(pe, e), plabel)
        else:
            merged.append((s, e, label))
    out: list[str] = []
    pos = 0
    for s, e, label in merged:
        out.append(text[pos:s])
        out.append(label)
        pos = e
    out.append(text[pos:])
    return "".join(out)


def args_of(redacted_payload: str) -> dict[str, Any] | None:
    """Tool arguments back from their redacted canonical JSON; None when the redaction broke it."""
    try:
        parsed = json.loads(redacted_payload)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def update_context(compiled: Compiled, subject: Subject, findings: Sequence[Finding], *,
                   redacted: str | None = None) -> RunContext:
    policy = compiled.policy
    ctx = subject.context
    now = time.time()
    update: dict[str, Any] = {}
    if subject.channel is Channel.USER_INPUT:
        # the goal is persisted in framework state: keep what the policy redacted out of it
        update["user_goal"] = append_goal(ctx.user_goal, redacted if redacted is not None else subject.payload)
        # the turn and loop caps bound the agent's work on one request (MASO EC-1.5, EC-1.10): counted over a
        # thread's whole life, the fourth question about the weather in Paris, days apart, was refused as a loop
        # and the thread's answers stopped at its 25th model turn. The hourly rate cap keeps counting.
        update["call_signatures"] = {}
        update["turns"] = 0
        update["retries"] = 0
        update["inputs"] = ctx.inputs + 1
    elif subject.channel is Channel.MODEL_OUTPUT:
        update["turns"] = ctx.turns + 1
    elif subject.channel is Channel.TOOL_CALL:
        update["tool_calls"] = _count_call(ctx.tool_calls, subject.tool_name or "", now,
                                           policy.caps.tool_calls_per_hour)
        sig = subject.call_signature
        counts = {k: n for k, n in ctx.call_signatures.items() if k != sig}
        counts[sig] = ctx.call_signatures.get(sig, 0) + 1  # last: the most recent call
        # a long thread makes ever new calls: keep the recent ones, the loops the cap is there to catch
        update["call_signatures"] = counts if len(counts) <= _MAX_SIGNATURES else \
            dict(list(counts.items())[-_MAX_SIGNATURES:])
    elif subject.channel.untrusted:
        banded = [(f, _band(compiled, f)) for f in findings if f.attack]
        attack = [f for f, (low, _high) in banded if f.score >= low]
        # only a decided attack marks its neighbourhood as injected (⇒ block); an uncertain one still
        # taints the run (⇒ approval), so a bill that merely looks pushy cannot block its own payment
        decided = [f for f, (_low, high) in banded if f.score >= high]
        with_spans, complete = read_values(subject.text, limit=policy.taint.max_values_per_observation)
        values = tuple(sorted({v for _s, _e, v in with_spans}))
        injected: set[str] = set()
        if decided:
            # a check that knows the injected segment (trigger through payload) says exactly where the
            # attacker wrote; otherwise a window around the evidence stands in for it. The exact segment
            # keeps the host's own data next to an injection (the address on the page it was planted in)
            # out of the "injected" set: calls carrying it go to a human instead of being blocked.
            segments = [sp for f in decided if f.redact_spans for sp in f.redact_spans]
            windows = [sp for f in decided if not f.redact_spans for sp in f.spans]
            if segments or windows:
                injected = values_near(with_spans, segments, before=0, after=0) | values_near(with_spans, windows)
            else:
                injected = set(values)
        obs = Observation(
            source=subject.source or subject.tool_name or subject.channel.value,
            channel=subject.channel,
            digest=subject.digest,
            attack_categories=tuple(sorted({f.category for f in attack})),
            values=values,
            values_complete=complete,
            injected_values=tuple(sorted(injected)),
            at=now,
        )
        update["observations"] = bounded((*ctx.observations, obs))
    if not update:
        return ctx
    return ctx.model_copy(update=update)


def _count_call(calls: Mapping[str, tuple[float, ...]], name: str, now: float,
                cap: int | None) -> dict[str, tuple[float, ...]]:
    """The per-tool call times with this call added, bounded: the rate cap only asks whether ``cap`` calls fell
    in the last hour, which the newest ``cap`` tell, and a tool not called for an hour counts nothing. Kept
    whole, an agent that keeps calling a refused tool grew the persisted context with every refusal."""
    recent = (*(t for t in calls.get(name, ()) if now - t < _HOUR), now)
    kept = {n: times for n, times in calls.items() if times and now - times[-1] < _HOUR}
    kept[name] = recent[-cap:] if cap is not None else recent
    return kept


def _band(compiled: Compiled, f: Finding) -> tuple[float, float]:
    cfg = compiled.configs.get(f.check)
    return (cfg.bands.low, cfg.bands.high) if cfg is not None else (0.5, 0.8)
