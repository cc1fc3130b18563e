"""Routing: findings × risk tier × budget × fail mode → the next step. Pure functions, no I/O.

Per finding, with the check's bands: below ``low`` it is recorded only; from ``low`` to ``high`` it
is uncertain (judge if configured and within budget, else the tier's fail mode); at or above
``high`` it takes its action. The most restrictive outcome wins.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ._decision import Action, Finding, JudgeVerdict, Layer, Status
from ._policy import Bands, CheckConfig, TierProfile

_DEFAULT_BANDS = Bands()


@dataclass(frozen=True)
class Route:
    """The L1 outcome and whether the judge should be asked."""

    action: Action
    layer: Layer
    reason: str
    decided: tuple[Finding, ...] = ()
    uncertain: tuple[Finding, ...] = ()
    ask_judge: bool = False
    judge_reason: str = ""
    redact: tuple[Finding, ...] = field(default=())
    fail_mode_applied: bool = False
    """The uncertain band was settled by the tier's fail mode because no judge could be asked."""


def finding_action(f: Finding, cfg: CheckConfig | None) -> Action:
    asked = f.action if f.action is not None else Action(cfg.action) if cfg is not None else Action.BLOCK
    if asked is Action.REDACT and not redactable(f):
        # a redaction with nothing to replace would pass the payload as it came, under an action that says it
        # was rewritten ("action: redact" on a check that marks no text, such as a refused URL): fail closed
        return Action.BLOCK
    return asked


def redactable(f: Finding) -> bool:
    """The finding marks text a redaction can replace (what ``apply_redactions`` reads)."""
    return bool(f.redact_spans if f.redact_spans is not None else f.spans)


def sampled(correlation_id: str, rate: float) -> bool:
    """Deterministic sampling: the same correlation id always gets the same answer."""
    if rate <= 0.0:
        return False
    if rate >= 1.0:
        return True
    h = int.from_bytes(hashlib.blake2b(correlation_id.encode(), digest_size=8).digest(), "big")
    return (h / 2**64) < rate


def route(
    findings: Sequence[Finding],
    configs: Mapping[str, CheckConfig],
    profile: TierProfile,
    *,
    correlation_id: str,
    judge_available: bool,
    force_approval: str | None = None,
) -> Route:
    decided: list[tuple[Action, Finding]] = []
    uncertain: list[Finding] = []
    for f in findings:
        cfg = configs.get(f.check)
        bands = cfg.bands if cfg is not None else _DEFAULT_BANDS
        # a finding that asks for allow is a flag: recorded, never uncertain, never judged
        if f.score < bands.low or f.action is Action.ALLOW:
            continue
        if f.score >= bands.high:
            decided.append((finding_action(f, cfg), f))
        else:
            uncertain.append(f)

    action = Action.most_restrictive(*(a for a, _ in decided))
    layer = Layer.GUARDRAIL
    reason = ""
    if decided:
        top = max(decided, key=lambda af: (af[0].rank, af[1].score))
        if top[0] is not Action.ALLOW:
            layer = Layer.POLICY if top[1].category in ("tool_policy", "limit", "format") else Layer.GUARDRAIL
            reason = top[1].message or f"{top[1].check}: {top[1].category}"
    if force_approval and action.rank < Action.REQUIRE_APPROVAL.rank:
        action, layer, reason = Action.REQUIRE_APPROVAL, Layer.POLICY, force_approval
    redact = tuple(f for a, f in decided if a is Action.REDACT)

    if action is Action.BLOCK:
        return Route(action, layer, reason, tuple(f for _, f in decided), tuple(uncertain), redact=redact)
    if uncertain and action.rank < Action.REQUIRE_APPROVAL.rank:
        if judge_available:
            return Route(action, layer, reason, tuple(f for _, f in decided), tuple(uncertain),
                         ask_judge=True, judge_reason="uncertain", redact=redact)
        fail = profile.fail_mode.as_action()
        if fail.rank > action.rank:
            top_u = max(uncertain, key=lambda f: f.score)
            return Route(fail, Layer.GUARDRAIL,
                         f"uncertain finding and no judge; tier fail mode {profile.fail_mode.value}: "
                         f"{top_u.message or top_u.check}",
                         tuple(f for _, f in decided), tuple(uncertain), redact=redact, fail_mode_applied=True)
    if (not uncertain and action is Action.ALLOW and judge_available
            and sampled(correlation_id, profile.judge_sampling)):
        return Route(action, layer, reason, tuple(f for _, f in decided), (), ask_judge=True,
                     judge_reason="sampled", redact=redact)
    return Route(action, layer, reason, tuple(f for _, f in decided), tuple(uncertain), redact=redact)


def apply_judge(r: Route, verdict: JudgeVerdict, profile: TierProfile) -> tuple[Action, Layer, Status, str]:
    """Map the judge's verdict (or its failure) onto the route. Most restrictive wins."""
    if verdict.status is not Status.OK or verdict.verdict is None:
        fail = profile.fail_mode.as_action()
        final = Action.most_restrictive(r.action, fail)
        # an "ok" verdict that names no verdict is a judge error too, not an ok judge overruled by the fail mode
        status = verdict.status if verdict.status is not Status.OK else Status.ERROR
        why = f"judge {status.value}; tier fail mode {profile.fail_mode.value}: {_failure_kind(verdict)}"
        return final, Layer.JUDGE, status, why
    if verdict.verdict == "escalate":
        judged = Action.BLOCK
    elif verdict.verdict == "review":
        judged = Action.REQUIRE_APPROVAL
    elif verdict.confidence >= profile.judge_confidence:
        judged = Action.ALLOW
    else:
        judged = Action.REQUIRE_APPROVAL
    final = Action.most_restrictive(r.action, judged)
    layer = Layer.JUDGE if judged.rank >= r.action.rank else r.layer
    # not the rationale: it is the judge model's text, which the item it graded steers, and the reason goes into
    # the agent's context (a withheld result, a refusal); the rationale stays in the verdict for audit and review
    why = f"judge {verdict.verdict} (confidence {verdict.confidence:.2f})"
    return final, layer, Status.OK, why if layer is Layer.JUDGE else r.reason


def _failure_kind(verdict: JudgeVerdict) -> str:
    """What went wrong, for the Decision's reason: the kind only ("judge failed", "unparseable judge output").

    The reason reaches the agent's model and the user (a refusal, a withheld result); the detail after the kind
    (an exception's message, which may name the judge's endpoint or key; a piece of the model's answer) stays in
    the verdict's rationale, which the audit records."""
    if not verdict.rationale:
        return "the judge named no verdict" if verdict.verdict is None else "no reason given"
    return verdict.rationale.split(": ", 1)[0][:80]
