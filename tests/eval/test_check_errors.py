"""A check that raises is reported, not folded silently into recall and false-positive rate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airs_plugins import Channel, Shield
from airs_plugins._cli import main
from airs_plugins.eval.agentdojo_run import PairResult, summarize
from airs_plugins.eval.corpus import Item, write_jsonl
from airs_plugins.eval.metrics import evaluate, misses

from ._fakes import core_only_policy

FRAGILE = (
    "from airs_plugins import Channel, Finding\n"
    "class Fragile:\n"
    "    id = 'fragile.check'\n"
    "    channels = frozenset(Channel)\n"
    "    maso = ()\n"
    "    attack_categories = frozenset({'injection'})\n"
    "    def __init__(self, config, policy): pass\n"
    "    def run(self, subject):\n"
    "        if 'QUIRK' in subject.payload:\n"
    "            raise RuntimeError('cannot parse this input')\n"
    "        hit = 'HIJACK' in subject.payload\n"
    "        return [Finding(check='fragile.check', category='injection', score=0.95, attack=True)] if hit else []\n"
)


class _Fragile:
    """Raises on inputs holding QUIRK, like a third-party check with a parsing bug."""

    id = "fragile.check"
    channels = frozenset(Channel)
    maso = ()
    attack_categories = frozenset({"injection"})

    def run(self, subject: object) -> list[object]:
        if "QUIRK" in getattr(subject, "payload", ""):
            raise RuntimeError("cannot parse this input")
        return []


ITEMS = [
    Item("HIJACK the agent QUIRK", "attack", "user", "direct"),
    Item("an ordinary QUIRK question", "benign", "user", "plain"),
    Item("an ordinary question", "benign", "tool_output", "plain"),
]


@pytest.mark.parametrize("l1_only", [True, False])
def test_items_a_check_raised_on_are_counted_and_listed(l1_only: bool) -> None:
    """n_errors counts the items, per group too, and misses() lists them with the failing check's id."""
    res = evaluate(Shield(core_only_policy(), checks=[_Fragile()]), ITEMS, l1_only=l1_only)
    m = res.to_json()
    assert m["n_errors"] == 2
    assert m["by_channel"]["user"]["n_errors"] == 2
    assert m["by_channel"]["tool_output"]["n_errors"] == 0
    assert m["by_style"]["plain"]["n_errors"] == 1
    listed = misses(res.scored)["check_errors"]
    assert [r["failed_checks"] for r in listed] == [["fragile.check"], ["fragile.check"]]


def _plugin(root: Path) -> None:
    (root / "fragile_checks.py").write_text(FRAGILE, encoding="utf-8")
    info = root / "fragile.check-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fragile.check\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[airs_plugins.checks]\nfragile.check = fragile_checks:Fragile\n",
                                           encoding="utf-8")


def test_cli_exits_1_and_says_so_when_a_check_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A policy's third-party check that raises: the JSON carries n_errors and the exit code is 1, not 0.

    Before, the items a check never read counted as not detected (benign ones as true negatives), the
    exit code was 0 and nothing in the output told them apart."""
    _plugin(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    policy = tmp_path / "policy.yaml"
    policy.write_text("checks:\n  - id: fragile.check\n", encoding="utf-8")
    corpus = tmp_path / "c.jsonl"
    write_jsonl([*ITEMS, Item("please HIJACK now", "attack", "user", "direct")], corpus)

    code = main(["eval", "--corpus", str(corpus), "--policy", str(policy), "--l1-only", "--json"])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert code == 1
    assert out["n_errors"] == 2
    assert out["recall"] == 0.5  # the attack the check raised on is a miss, as in a deployment
    assert "a check raised on 2 corpus item(s)" in captured.err

    clean = tmp_path / "clean.jsonl"
    write_jsonl([ITEMS[2]], clean)
    assert main(["eval", "--corpus", str(clean), "--policy", str(policy), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_errors"] == 0


def _pair(findings: dict[str, int], attack: str | None = "a") -> PairResult:
    return PairResult(suite="s", user_task="u", injection_task="i" if attack else None, attack=attack,
                      utility=True, security=False if attack else None, calls=1, routed=0, call_approvals=0,
                      result_approvals=0, blocked_calls=0, withheld_results=0, hijacked=False, aborted=False,
                      l1_ms=0.1, checks=2, wall_ms=1.0, findings=findings)


def test_agentdojo_summary_counts_runs_where_a_check_raised() -> None:
    """check_errors counts the runs (clean and attacked) in which a check raised, overall and per suite."""
    results = [_pair({"fragile.check:check_error": 2}, None), _pair({"fragile.check:check_error": 1}),
               _pair({"injection.prompt:injection": 1})]
    m = summarize(results)
    assert m["check_errors"] == 2
    assert m["by_suite"]["s"]["check_errors"] == 2
    assert m["by_attack"]["a"]["check_errors"] == 1
