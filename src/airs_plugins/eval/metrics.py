"""Detection metrics for a labelled corpus run through a :class:`~airs_plugins.Shield`.

An item is *detected* when the final action is not ``allow`` — except a redaction without any
attack finding (PII masking is not a false positive). Under ``l1_only`` an item is detected when it
carries an attack finding at or above its check's lower band (what the router acts on), so the
number measures the guardrails alone whatever the routing does afterwards.

An item on which a check raised (its ``check_error`` finding) is counted as the shield handled it,
which is what a deployment gets, and also in ``n_errors``: a rate over items that a check never
really read would otherwise pass for a measurement of that check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._bench import percentile
from .._decision import Action, Channel, Decision, Finding
from .._shield import Shield
from .corpus import CHANNELS, Item, half_of


@dataclass(frozen=True)
class Scored:
    """One item's outcome."""

    item: Item
    action: Action
    detected: bool
    score: float
    """Highest attack-finding score (0 when none): the confidence the threshold curve sweeps."""
    ms: float
    categories: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    """The ids of the checks that raised on this item."""


@dataclass
class CorpusResult:
    scored: list[Scored] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return summarize(self.scored)


def _bands(shield: Shield) -> dict[str, float]:
    from ..checks import policy_checks

    return {c.id: c.bands.low for c in policy_checks(shield.policy)}


def attack_findings(findings: Iterable[Finding], low: Mapping[str, float]) -> list[Finding]:
    return [f for f in findings if f.attack and f.score >= low.get(f.check, 0.5)]


def is_detected(d: Decision, low: Mapping[str, float], *, l1_only: bool) -> bool:
    hits = attack_findings(d.findings, low)
    if l1_only:
        return bool(hits)
    if d.action is Action.ALLOW:
        return False
    if d.action is Action.REDACT:
        return bool(hits)
    return True


CHECK_ERROR = "check_error"
"""The category the pipeline gives a check that raised (``_pipeline.run_checks``)."""


def failed_checks(findings: Iterable[Finding]) -> tuple[str, ...]:
    return tuple(sorted({f.check for f in findings if f.category == CHECK_ERROR}))


def check_item(shield: Shield, item: Item) -> Decision:
    channel = CHANNELS[item.channel]
    if channel is Channel.USER_INPUT:
        return shield.check_input(item.text)
    if channel is Channel.RETRIEVED:
        return shield.check_retrieved(item.text, source=item.source or "corpus")
    return shield.check_tool_result(item.source or "corpus_tool", item.text)


def evaluate(
    shield: Shield,
    items: Sequence[Item],
    *,
    l1_only: bool = False,
    progress: Callable[[int], None] | None = None,
) -> CorpusResult:
    low = _bands(shield)
    out = CorpusResult()
    for i, item in enumerate(items):
        t0 = time.perf_counter()
        d = check_item(shield, item)
        ms = (time.perf_counter() - t0) * 1000
        hits = [f for f in d.findings if f.attack]
        out.scored.append(Scored(
            item=item, action=d.action, detected=is_detected(d, low, l1_only=l1_only),
            score=max((f.score for f in hits), default=0.0), ms=ms,
            categories=tuple(sorted({f.category for f in hits})), errors=failed_checks(d.findings)))
        if progress is not None:
            progress(i + 1)
    return out


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def rates(scored: Sequence[Scored]) -> dict[str, Any]:
    tp = sum(1 for s in scored if s.item.attack and s.detected)
    fn = sum(1 for s in scored if s.item.attack and not s.detected)
    fp = sum(1 for s in scored if not s.item.attack and s.detected)
    tn = sum(1 for s in scored if not s.item.attack and not s.detected)
    recall = _rate(tp, tp + fn)
    precision = _rate(tp, tp + fp)
    f1 = (round(2 * precision * recall / (precision + recall), 4)
          if precision is not None and recall is not None and precision + recall > 0 else None)
    return {"n": len(scored), "n_attack": tp + fn, "n_benign": fp + tn, "tp": tp, "fp": fp, "fn": fn,
            "tn": tn, "n_errors": sum(1 for s in scored if s.errors),
            "recall": recall, "fpr": _rate(fp, fp + tn), "precision": precision, "f1": f1}


def curve(scored: Sequence[Scored]) -> list[dict[str, float]]:
    """Detection rate and false-positive rate if only attack findings scoring ≥ t counted."""
    attacks = [s.score for s in scored if s.item.attack]
    benign = [s.score for s in scored if not s.item.attack]
    points: list[dict[str, float]] = []
    for t in sorted({0.0, *attacks, *benign, 1.01}, reverse=True):
        tpr = sum(1 for x in attacks if x >= t and x > 0) / len(attacks) if attacks else 0.0
        fpr = sum(1 for x in benign if x >= t and x > 0) / len(benign) if benign else 0.0
        points.append({"threshold": round(t, 4), "tpr": round(tpr, 4), "fpr": round(fpr, 4)})
    return points


def summarize(scored: Sequence[Scored]) -> dict[str, Any]:
    ms = [s.ms for s in scored]
    base = rates(scored)
    out: dict[str, Any] = {
        "n": base["n"], "recall": base["recall"], "fpr": base["fpr"], "precision": base["precision"],
        "f1": base["f1"], "p50_ms": round(percentile(ms, 50), 4), "p99_ms": round(percentile(ms, 99), 4),
        "n_attack": base["n_attack"], "n_benign": base["n_benign"], "n_errors": base["n_errors"],
        "by_channel": _group(scored, lambda s: s.item.channel),
    }
    if any(s.item.style for s in scored):
        out["by_style"] = _group(scored, lambda s: s.item.style or "unspecified")
    # patterns were written against misses of the tuning half, and the style model trained on it: the
    # held-out half is the number that says what generalises
    out["by_half"] = _group(scored, lambda s: half_of(s.item.text))
    out["curve"] = curve(scored)
    return out


def _group(scored: Sequence[Scored], key: Callable[[Scored], str]) -> dict[str, Any]:
    groups: dict[str, list[Scored]] = {}
    for s in scored:
        groups.setdefault(key(s), []).append(s)
    out: dict[str, Any] = {}
    for k in sorted(groups):
        r = rates(groups[k])
        ms = [s.ms for s in groups[k]]
        out[k] = {"n": r["n"], "n_attack": r["n_attack"], "n_benign": r["n_benign"], "n_errors": r["n_errors"],
                  "recall": r["recall"],
                  "fpr": r["fpr"], "precision": r["precision"], "f1": r["f1"],
                  "p50_ms": round(percentile(ms, 50), 4), "p99_ms": round(percentile(ms, 99), 4)}
    return out


def misses(scored: Sequence[Scored], *, limit: int = 20) -> dict[str, list[dict[str, Any]]]:
    """Examples of missed attacks, false positives and items a check raised on (for tuning and the report)."""
    fn = [s for s in scored if s.item.attack and not s.detected]
    fp = [s for s in scored if not s.item.attack and s.detected]
    err = [s for s in scored if s.errors]
    def show(s: Scored) -> dict[str, Any]:
        return {"style": s.item.style, "channel": s.item.channel, "action": s.action.value,
                "categories": list(s.categories), "failed_checks": list(s.errors), "text": s.item.text[:300]}
    return {"false_negatives": [show(s) for s in fn[:limit]], "false_positives": [show(s) for s in fp[:limit]],
            "check_errors": [show(s) for s in err[:limit]]}
