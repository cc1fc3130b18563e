"""What ``airs eval`` measured is visible: the held-out half next to the pooled rate, quick runs labelled,
and quick samples spread through each family rather than taken from its head."""

from __future__ import annotations

import json

import pytest

from airs_plugins import Shield
from airs_plugins._cli import main
from airs_plugins.eval.corpus import Item, half_of, sample
from airs_plugins.eval.metrics import evaluate

from ._fakes import WordCheck, core_only_policy
from .conftest import needs_agentdojo


def test_sample_spreads_through_each_family() -> None:
    """A source listed by date or template: the sample spans it instead of measuring its first items."""
    items = [Item(f"prompt {i}", "attack", "user", "in_the_wild") for i in range(100)]
    items += [Item(f"benign {i}", "benign", "user", "in_the_wild") for i in range(3)]
    picked = sample(items, 4)
    assert [it.text for it in picked if it.attack] == ["prompt 0", "prompt 25", "prompt 50", "prompt 75"]
    assert [it.text for it in picked if not it.attack] == ["benign 0", "benign 1", "benign 2"]


def test_summary_reports_the_tuning_and_held_out_halves() -> None:
    """by_half splits every rate by corpus.half_of, the split the patterns and the style model were tuned on."""
    items = [Item(f"HIJACK attempt {i}" if i % 3 else f"quiet attempt {i}", "attack", "user") for i in range(40)]
    items += [Item(f"ordinary note {i}", "benign", "user") for i in range(40)]
    m = evaluate(Shield(core_only_policy(), checks=[WordCheck("HIJACK", 0.95)]), items).to_json()
    halves = m["by_half"]
    assert set(halves) == {"tune", "held"}
    for half in ("tune", "held"):
        mine = [it for it in items if half_of(it.text) == half]
        caught = [it for it in mine if it.attack and "HIJACK" in it.text]
        assert halves[half]["n"] == len(mine)
        assert halves[half]["n_attack"] == sum(it.attack for it in mine)
        assert halves[half]["recall"] == pytest.approx(len(caught) / halves[half]["n_attack"], abs=1e-4)


@needs_agentdojo
def test_eval_all_json_says_whether_it_was_quick(capsys: pytest.CaptureFixture[str]) -> None:
    """--quick numbers are not the full run's: the JSON carries quick: true and by_half for every corpus."""
    code = main(["eval", "all", "--quick", "--l1-only", "--json", "--suite", "banking", "--attack", "direct",
                 "--user-tasks", "1", "--injection-tasks", "1", "--workers", "1", "--no-baseline"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["quick"] is True
    assert set(out["corpus"]["by_half"]) == {"tune", "held"}
    assert sum(v["n"] for v in out["corpus"]["by_half"].values()) == out["corpus"]["n"]
