"""The in-memory ledger is bounded, and a paused run keeps its record however many threads run meanwhile.

A tool whose result waits for a reviewer has run; the re-run of its task after the answer replays the
result from the ledger (as do the ungated calls of a ``ToolNode`` task that paused on a gated one).
``MemoryLedger`` keeps only the most recently used threads, so a thread that waits must be kept past the
bound: forgotten, its tool would run a second time on the resume."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from airs_plugins import Action, Channel, Shield
from airs_plugins._ledger import MemoryLedger
from contract.harness import (
    ADAPTERS,
    PARALLEL,
    POLICY,
    Executions,
    MarkerCheck,
    ToolFake,
    answer_for,
    assert_paired,
    build,
    call,
    make_shield,
    new_config,
    run_sync,
    script,
    step_sync,
)
from contract.rules import RuleCheck, rule

OTHERS = 6
CHECK_ME = "ZX-RESULT-REVIEW"
"""A tool result carrying this waits for a reviewer before the model reads it."""


def reviewed_results(ledger: MemoryLedger) -> Shield:
    return Shield.from_policy(POLICY, ledger=ledger, checks=[
        MarkerCheck(), RuleCheck(rule(CHECK_ME, Channel.TOOL_RESULT, Action.REQUIRE_APPROVAL), check_id="t.review")])


def paused_then_others(adapter: str, ledger: MemoryLedger, *, review: bool = False,
                       ) -> tuple[Executions, Any, dict[str, Any], list[Any]]:
    shield = reviewed_results(ledger) if review else make_shield(ledger=ledger)
    ex = Executions(inbox=f"the inbox {CHECK_ME}") if review else Executions()
    turn = [call("read_inbox", {"folder": "work"}, "c_read")] if review else PARALLEL
    graph = build(adapter, shield, ToolFake(responses=script(turn, "done")), ex, InMemorySaver())
    config = new_config("paused")
    pending = step_sync(graph, {"messages": [HumanMessage("go")]}, config, stream=False)
    assert pending, "the gated calls should pause the run"
    for i in range(OTHERS):  # other conversations run to their end while the reviewer thinks
        other = Executions()
        turns = script([call("lookup", {"q": f"other {i}"}, f"o{i}")], "done")
        run_sync(build(adapter, shield, ToolFake(responses=turns), other, InMemorySaver()), "go",
                 new_config("other"), None)
        assert other.of("lookup") == [{"q": f"other {i}"}]
    return ex, graph, config, pending


def resume(graph: Any, config: dict[str, Any], pending: list[Any]) -> None:
    approve = answer_for("approve")
    for _ in range(10):
        if not pending:
            return
        pending = step_sync(graph, Command(resume={i.id: approve(i.value) for i in pending}), config, stream=False)
    raise AssertionError("the run never finished")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_paused_run_keeps_its_record_while_other_threads_come_and_go(adapter: str) -> None:
    ledger = MemoryLedger(max_threads=2)
    ex, graph, config, pending = paused_then_others(adapter, ledger)
    assert ledger.threads <= 2 + 1  # bounded (at most the paused thread on top of the bound)
    assert ledger.forgotten >= OTHERS - 2
    resume(graph, config, pending)
    assert ex.of("lookup") == [{"q": "weather"}]  # ran once, before the pause; replayed after it
    assert ex.of("send_email") == [{"to": "bob@example.com", "body": "hello"}]
    assert ex.of("transfer") == [{"amount": 500, "to": "acct-1"}]
    assert_paired(graph.get_state(config).values["messages"])


@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_a_result_waiting_for_its_reviewer_is_replayed_however_many_threads_came_and_went(adapter: str) -> None:
    ledger = MemoryLedger(max_threads=2)
    ex, graph, config, pending = paused_then_others(adapter, ledger, review=True)
    assert [p.value["channel"] for p in pending] == ["tool_result"]
    assert ledger.threads <= 2 + 1 and ledger.forgotten >= OTHERS - 2
    resume(graph, config, pending)
    assert ex.of("read_inbox") == [{"folder": "work"}]  # ran once; the re-run after the answer replayed it
    assert CHECK_ME in str(assert_paired(graph.get_state(config).values["messages"])["c_read"].content)


@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_without_the_keep_a_forgotten_paused_run_would_run_its_tool_twice(adapter: str) -> None:
    """What the keep prevents (``paused_keep_s=0`` forgets a waiting thread at once): the failure a bare
    LRU bound would have, shown so that the test above cannot pass for a reason other than the keep."""
    ledger = MemoryLedger(max_threads=2, paused_keep_s=0.0)
    ex, graph, config, pending = paused_then_others(adapter, ledger, review=True)
    resume(graph, config, pending)
    assert ex.of("read_inbox") == [{"folder": "work"}, {"folder": "work"}]
