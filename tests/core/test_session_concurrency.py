"""``shield.session()`` under concurrent calls: each is decided on the context the one before left.

Before, calls run side by side each started from the same context and the last to finish kept only its own
update: a tool result read next to another was forgotten (its taint with it) and five identical calls under an
``identical_calls: 2`` cap all ran."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airs_plugins import Action, Shield
from airs_plugins.testing import ScriptedJudge

# every call goes to the judge, which takes a while: what lets the calls overlap
POLICY = {"tiers": {"MEDIUM": {"judge_sampling": 1.0}}, "caps": {"identical_calls": 2}}


async def slow_pass(request: Any) -> str:
    await asyncio.sleep(0.02)
    return "pass"


def slow_pass_sync(request: Any) -> str:
    time.sleep(0.02)
    return "pass"


def test_concurrent_async_calls_are_counted_by_the_loop_cap() -> None:
    async def run() -> tuple[list[Action], dict[str, int]]:
        session = Shield.from_policy(POLICY, judge=ScriptedJudge([slow_pass])).session()
        ds = await asyncio.gather(*(session.acheck_tool_call("pay", {"to": "x"}) for _ in range(5)))
        return [d.action for d in ds], session.context.call_signatures

    actions, signatures = asyncio.run(run())
    assert sorted(actions, key=lambda a: a.rank) == [Action.ALLOW] * 2 + [Action.BLOCK] * 3
    assert list(signatures.values()) == [5]


def test_concurrent_async_reads_are_all_kept() -> None:
    async def run() -> list[str]:
        session = Shield.from_policy(POLICY, judge=ScriptedJudge([slow_pass])).session()
        await asyncio.gather(session.acheck_tool_result("inbox", "Wire it to DE89370400440532013000 today"),
                             session.acheck_tool_result("calendar", "Nothing planned."),
                             session.acheck_retrieved("Docs page", source="kb"))
        return sorted(o.source for o in session.context.observations)

    assert asyncio.run(run()) == ["calendar", "inbox", "kb"]


def test_concurrent_threads_share_one_context() -> None:
    session = Shield.from_policy(POLICY, judge=ScriptedJudge([slow_pass_sync])).session()
    with ThreadPoolExecutor(max_workers=5) as pool:
        actions = list(pool.map(lambda _: session.check_tool_call("pay", {"to": "x"}).action, range(5)))
    assert actions.count(Action.ALLOW) == 2 and actions.count(Action.BLOCK) == 3
    assert len(session.context.tool_calls["pay"]) == 5


def test_a_session_outlives_its_event_loop() -> None:
    """The async lock is the running loop's: the same session goes on under a later ``asyncio.run``."""
    session = Shield.from_policy(POLICY, judge=ScriptedJudge([slow_pass])).session()

    async def two_inputs() -> None:
        await asyncio.wait_for(asyncio.gather(session.acheck_input("hi"), session.acheck_input("there")), 5)

    for _ in range(2):
        asyncio.run(two_inputs())
    assert session.context.user_goal == "hi\nthere\nhi\nthere"
