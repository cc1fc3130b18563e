"""The turn and loop caps bound the agent's work on one user request (MASO EC-1.5 turn cap, EC-1.10 retry cap).

Counted over a thread's whole life, the fourth time a user asked about the weather in Paris (on another day) the
call was refused as a loop, and a thread under ``turns: 25`` (the README's example) stopped answering at its 25th
model turn for good. The hourly rate cap still counts across requests."""

from __future__ import annotations

from airs_plugins import Action, Shield

POLICY = {"caps": {"identical_calls": 2, "turns": 3, "tool_calls_per_hour": 5}}


def test_a_repeated_call_in_a_later_request_is_not_a_loop() -> None:
    session = Shield.from_policy(POLICY).session()
    for _ in range(3):
        session.check_input("What is the weather in Paris?")
        assert session.check_tool_call("weather", {"city": "Paris"}).action is Action.ALLOW


def test_a_loop_within_one_request_is_still_caught() -> None:
    session = Shield.from_policy(POLICY).session()
    session.check_input("What is the weather in Paris?")
    actions = [session.check_tool_call("weather", {"city": "Paris"}).action for _ in range(3)]
    assert actions == [Action.ALLOW, Action.ALLOW, Action.BLOCK]


def test_the_turn_cap_counts_the_turns_of_one_request() -> None:
    session = Shield.from_policy(POLICY).session()
    for _ in range(3):
        session.check_input("Tell me more.")
        assert session.check_output("Here is more.").action is Action.ALLOW
    assert [session.check_output("And more.").action for _ in range(3)] == [Action.ALLOW, Action.ALLOW, Action.BLOCK]


def test_the_hourly_rate_cap_counts_across_requests() -> None:
    session = Shield.from_policy(POLICY).session()
    actions = []
    for i in range(6):
        session.check_input("Weather again?")
        actions.append(session.check_tool_call("weather", {"city": f"city {i}"}).action)
    assert actions == [Action.ALLOW] * 5 + [Action.BLOCK]


def test_the_call_times_kept_are_bounded_by_the_rate_cap() -> None:
    """An agent that keeps calling a refused tool does not grow its context with every refusal, and a tool idle
    for an hour leaves it; the cap still holds."""
    import time

    from airs_plugins import RunContext

    shield = Shield.from_policy(POLICY)
    stale = RunContext(tool_calls={"old_tool": (time.time() - 7200,)})
    session = shield.session()
    session.context = stale
    actions = [session.check_tool_call("search", {"q": f"try {i}"}).action for i in range(50)]
    assert actions == [Action.ALLOW] * 5 + [Action.BLOCK] * 45
    assert list(session.context.tool_calls) == ["search"] and len(session.context.tool_calls["search"]) == 5
