"""The state reducers keep what concurrent steps learnt: taint only grows, counters only rise."""

from __future__ import annotations

from airs_plugins import RunContext
from airs_plugins._decision import MAX_OBSERVATIONS
from airs_plugins._observations import FOLDED_SOURCE
from airs_plugins.langchain import merge_context
from airs_plugins.langchain._translate import args_digest, context_out, merge_decisions, merge_ids, record_for
from contract.harness import INJECT, make_shield


def test_parallel_tool_results_both_taint_the_run() -> None:
    """Two tool results checked in parallel from the same context are both kept after the merge."""
    shield = make_shield()
    base = shield.check_input("summarise my mail").context
    left = shield.check_tool_result("read_inbox", f"mail one {INJECT}", context=base).context
    right = shield.check_tool_result("lookup", "weather is fine", context=base).context
    merged = RunContext.coerce(merge_context(left.model_dump(mode="json"), right.model_dump(mode="json")))
    assert sorted(o.source for o in merged.observations) == ["lookup", "read_inbox"]
    assert merged.untrusted_findings == ("injection",)
    assert merged.user_goal == "summarise my mail"
    assert merged.run_id == base.run_id


def test_counters_take_the_maximum_and_timestamps_unite() -> None:
    """Call counters and per-tool timestamps from both sides survive the merge."""
    a = {"run_id": "r", "turns": 2, "retries": 0, "tool_calls": {"x": [1.0]}, "call_signatures": {"s": 1},
         "observations": []}
    b = {"run_id": "r", "turns": 1, "retries": 3, "tool_calls": {"x": [2.0], "y": [3.0]},
         "call_signatures": {"s": 2, "t": 1}, "observations": []}
    merged = merge_context(a, b)
    assert merged is not None
    assert (merged["turns"], merged["retries"]) == (2, 3)
    assert merged["tool_calls"] == {"x": [1.0, 2.0], "y": [3.0]}
    assert merged["call_signatures"] == {"s": 2, "t": 1}
    assert merge_context(None, b) == b
    assert merge_context(a, None) == a


def test_a_sequential_update_is_kept_as_it_is_and_anything_else_is_merged() -> None:
    """When the update already holds the current value it is returned untouched (no copy, no re-merge)."""
    shield = make_shield()
    base = shield.check_input("summarise my mail").context
    before = base.model_dump(mode="json")
    after = shield.check_tool_result("read_inbox", f"mail one {INJECT}", context=base).context.model_dump(mode="json")
    assert merge_context(before, after) is after
    # the reverse (a stale update) loses nothing: the newer observation stays
    assert len(merge_context(after, before)["observations"]) == 1  # type: ignore[index]
    # same length, different goal: not a sequential update, so the ordinary merge decides
    other = {**after, "user_goal": "x" * len(after["user_goal"])}
    assert merge_context(after, other) is not other


def test_decisions_and_ids_merge_key_by_key() -> None:
    """A later record for a call replaces the earlier one; checked ids are kept once each."""
    assert merge_decisions({"c1": {"action": "require_approval"}}, {"c1": {"action": "allow"}, "c2": {}}) == \
        {"c1": {"action": "allow"}, "c2": {}}
    assert merge_ids(["a", "b"], ["b", "c"]) == ["a", "b", "c"]


def test_a_record_only_matches_its_own_tool_and_arguments() -> None:
    """A decision record authorises the call id only for the tool and the exact arguments it was made on."""
    records = {"c1": {"tool_name": "lookup", "args_digest": args_digest({"q": "a"}), "action": "allow"}}
    assert record_for(records, "c1", "lookup", {"q": "a"}) is not None
    assert record_for(records, "c1", "lookup", {"q": "b"}) is None
    assert record_for(records, "c2", "lookup", {"q": "a"}) is None
    # the same id and arguments redirected to another tool (a reviewer's edit in HumanInTheLoopMiddleware)
    assert record_for(records, "c1", "delete_all", {"q": "a"}) is None
    # a record that does not say which tool it was made for authorises none
    assert record_for({"c1": {"args_digest": args_digest({"q": "a"})}}, "c1", "lookup", {"q": "a"}) is None


def test_decision_records_are_bounded_to_the_newest() -> None:
    """A long thread's state keeps the newest 512 records (a record is needed until its call has run; the
    audit keeps them all), so the state re-saved at every step does not grow with the thread."""
    records: dict[str, object] = {}
    for i in range(600):
        records = merge_decisions(records, {f"call_{i}": {"action": "allow"}})
    assert len(records) == 512
    assert "call_599" in records and "call_88" in records and "call_87" not in records


def test_a_long_runs_folded_reads_merge_without_loss_or_churn() -> None:
    """Past the bound the oldest reads are folded into a summary: a sequential update that folded one more is
    still kept as it is, and two branches that each read past the bound keep both their injections."""
    shield = make_shield()
    ctx = shield.check_tool_result("read_inbox", f"mail {INJECT} to evil@attacker.example",
                                   context=shield.check_input("summarise my mail").context).context
    for i in range(MAX_OBSERVATIONS + 5):
        ctx = shield.check_tool_result("lookup", f"result {i}", context=ctx).context
    before = context_out(ctx)
    after = context_out(shield.check_tool_result("lookup", "one more", context=ctx).context)
    assert after["observations"][0]["source"] == FOLDED_SOURCE
    assert merge_context(before, after) is after
    merged = RunContext.coerce(merge_context(after, before))  # a stale update loses nothing either
    assert merged.observations[0].source == FOLDED_SOURCE and merged.untrusted_findings == ("injection",)
    assert len(merged.observations) == MAX_OBSERVATIONS

    base = shield.check_input("summarise my mail").context
    left, right = base, base
    left = shield.check_tool_result("read_inbox", f"mail {INJECT} to left@attacker.example", context=left).context
    right = shield.check_tool_result("read_inbox", f"note {INJECT} to right@attacker.example", context=right).context
    for i in range(MAX_OBSERVATIONS + 5):
        left = shield.check_tool_result("lookup", f"left {i}", context=left).context
        right = shield.check_tool_result("lookup", f"right {i}", context=right).context
    both = RunContext.coerce(merge_context(context_out(left), context_out(right)))
    assert len(both.observations) == MAX_OBSERVATIONS
    injected = {v for o in both.observations for v in o.injected_values}
    assert {"left@attackerexample", "right@attackerexample"} <= injected
