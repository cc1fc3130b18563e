"""``caps.retries`` (MASO EC-1.10) counts the retries the product makes: ``Shield.count_retry`` counts one in the
run context and refuses it once the cap is reached. Before, nothing ever counted a retry, so the cap (default 3)
could never fire."""

from __future__ import annotations

from typing import Any

from airs_plugins import Action, RunContext, Shield

from ._fakes import core_policy


def shield(**extra: Any) -> Shield:
    return Shield.from_policy(core_policy(**extra))


def test_retries_are_counted_up_to_the_cap_and_the_next_is_refused_naming_it() -> None:
    s = shield(caps={"retries": 2})
    ctx = RunContext()
    refusals = []
    for _ in range(3):
        ctx, refused = s.count_retry(ctx)
        refusals.append(refused)
    assert refusals[:2] == [None, None] and ctx.retries == 2
    assert refusals[2] is not None and "caps.retries 2" in refusals[2] and "retry cap reached" in refusals[2]


def test_the_count_starts_again_at_the_users_next_input() -> None:
    session = shield(caps={"retries": 1}).session()
    session.check_input("first question")
    assert session.count_retry() is None and session.count_retry() is not None
    session.check_input("second question")
    assert session.context.retries == 0 and session.count_retry() is None


def test_no_cap_no_refusal() -> None:
    s = shield(caps={"retries": None})
    ctx = RunContext(retries=1000)
    ctx, refused = s.count_retry(ctx)
    assert refused is None and ctx.retries == 1001


def test_the_cap_is_limit_caps_s_and_an_enforcing_policys() -> None:
    """Like the other caps: a policy that leaves ``limit.caps`` out, or only monitors, is not stopped by it."""
    without = Shield.from_policy({"checks": [{"id": "tool.policy"}], "caps": {"retries": 0}})
    assert without.count_retry(RunContext())[1] is None
    monitor = shield(caps={"retries": 0}, mode="monitor")
    assert monitor.count_retry(RunContext())[1] is None
    assert shield(caps={"retries": 0}).count_retry(RunContext())[1] is not None


def test_a_context_counted_past_the_cap_blocks_tool_calls() -> None:
    """A context counted under a higher cap (the policy lowered since): its tool calls meet the cap."""
    d = shield(caps={"retries": 1}).check_tool_call("lookup", {"q": "x"}, context=RunContext(retries=3))
    assert d.action is Action.BLOCK and "retry cap" in (d.reason or "")
