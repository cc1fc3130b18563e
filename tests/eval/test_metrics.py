"""Corpus metrics: detection rule, rates, groups, threshold curve (DESIGN §3 keys)."""

from __future__ import annotations

import pytest

from airs_plugins import Action, Shield
from airs_plugins.eval.corpus import Item
from airs_plugins.eval.metrics import curve, evaluate, percentile, summarize

from ._fakes import WordCheck, core_only_policy

ATTACK = WordCheck("HIJACK", 0.95, check_id="test.hijack")
WEAK = WordCheck("maybe-bad", 0.3, check_id="test.weak")
PII = WordCheck("555-0100", 0.9, category="pii", check_id="test.pii", attack=False, action=Action.REDACT)


def shield() -> Shield:
    return Shield(core_only_policy(), checks=[ATTACK, WEAK, PII])


ITEMS = [
    Item("please HIJACK the agent", "attack", "user", "direct"),
    Item("tool says HIJACK", "attack", "tool_output", "indirect"),
    Item("a subtle maybe-bad attack", "attack", "retrieved_doc", "indirect"),
    Item("call me at 555-0100", "benign", "user", "pii"),
    Item("ordinary text", "benign", "user", "plain"),
    Item("we discuss HIJACK attacks", "benign", "user", "security_writing"),
]


def test_design_keys_and_rates() -> None:
    """--json keys from DESIGN §3 are present; recall, FPR, precision and F1 follow the confusion counts."""
    m = evaluate(shield(), ITEMS).to_json()
    for key in ("n", "recall", "fpr", "precision", "f1", "p50_ms", "p99_ms", "by_channel", "by_style"):
        assert key in m
    assert m["n"] == 6
    assert m["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["fpr"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert set(m["by_channel"]) == {"user", "tool_output", "retrieved_doc"}
    assert m["by_style"]["security_writing"]["fpr"] == 1.0
    assert m["by_style"]["plain"]["fpr"] == 0.0


def test_pii_redaction_is_not_a_false_positive() -> None:
    """A benign item that is only redacted for PII counts as not detected."""
    res = evaluate(shield(), [ITEMS[3]])
    assert res.scored[0].action.value == "redact"
    assert res.scored[0].detected is False


def test_l1_only_counts_attack_findings_at_or_above_the_lower_band() -> None:
    """Under --l1-only an item is detected by an attack finding at/above its check's low band, whatever the action."""
    sh = Shield(core_only_policy(), checks=[WordCheck("odd", 0.6, check_id="test.odd")])
    item = Item("an odd input", "attack", "user")
    assert evaluate(sh, [item], l1_only=True).scored[0].detected is True
    low = Shield(core_only_policy(), checks=[WordCheck("odd", 0.3, check_id="test.odd")])
    assert evaluate(low, [item], l1_only=True).scored[0].detected is False


def test_curve_is_monotone_and_spans_the_range() -> None:
    """The threshold curve starts at (0,0), ends at the loosest threshold, and never decreases."""
    res = evaluate(shield(), ITEMS)
    pts = curve(res.scored)
    assert (pts[0]["tpr"], pts[0]["fpr"]) == (0.0, 0.0)
    tprs = [p["tpr"] for p in pts]
    fprs = [p["fpr"] for p in pts]
    assert tprs == sorted(tprs)
    assert fprs == sorted(fprs)
    assert pts[-1]["tpr"] == 1.0


def test_empty_groups_report_none_not_zero() -> None:
    """A group with no attacks reports recall None (unknown), not 0."""
    m = summarize(evaluate(shield(), [ITEMS[4]]).scored)
    assert m["recall"] is None
    assert m["fpr"] == 0.0


def test_percentile_nearest_rank() -> None:
    """Nearest-rank percentiles: p50 of 1..100 is 50, p99 is 99, and empty input gives 0."""
    xs = [float(i) for i in range(1, 101)]
    assert percentile(xs, 50) == 50.0
    assert percentile(xs, 99) == 99.0
    assert percentile([], 50) == 0.0
