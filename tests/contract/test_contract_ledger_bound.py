"""The in-memory ledger is bounded, and a paused run keeps its record however many threads run meanwhile.

A tool whose result waits for a reviewer has run; the re-run of its task after the answer replays the
result from the ledger, as it does a guarded call that ran in a ``ToolNode`` task beside a tool that paused
on an ``interrupt()`` of its own. ``MemoryLedger`` keeps only the most recently used threads, so a thread
that waits must be kept past the bound (AIRS's own pauses, for days), and so must every thread used
recently (a pause AIRS cannot see, for an hour): forgotten, its tool would run a second time on the resume.
The tests set ``min_idle_s=0`` where they test the keep of a pause, so that only the keep can save the run."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.types import Command, interrupt

from airs_plugins import Action, Channel, Shield
from airs_plugins._ledger import MemoryLedger
from airs_plugins.langchain import guard_tools
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
    """Every adapter with the bound: the others are forgotten, the paused run completes with the right
    executions (its ungated call runs in a task of its own here, so this is the bound, not the keep)."""
    ledger = MemoryLedger(max_threads=2, min_idle_s=0)
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
    ledger = MemoryLedger(max_threads=2, min_idle_s=0)
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
    ledger = MemoryLedger(max_threads=2, min_idle_s=0, paused_keep_s=0.0)
    ex, graph, config, pending = paused_then_others(adapter, ledger, review=True)
    resume(graph, config, pending)
    assert ex.of("read_inbox") == [{"folder": "work"}, {"folder": "work"}]


def _tool_node_beside_an_interrupt(shield: Shield, log: list[str], turns: list[Any]) -> Any:
    """A hand-built graph whose plain ``ToolNode`` holds a guarded ``lookup`` and a tool of the host's own that
    asks the user with ``interrupt()``: one task runs both calls, and the resume re-runs it whole."""

    @tool
    def lookup(q: str) -> str:
        """Look something up."""
        log.append(q)
        return f"result for {q}"

    @tool
    def ask_user(question: str) -> str:
        """Ask the user."""
        return str(interrupt({"question": question}))

    model = ToolFake(responses=turns)

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("model", call_model)
    builder.add_node("tools", ToolNode([*guard_tools([lookup], shield), ask_user]))
    builder.add_edge(START, "model")
    builder.add_conditional_edges("model", tools_condition)
    builder.add_edge("tools", "model")
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize(("min_idle_s", "runs"), [(3_600.0, 1), (0.0, 2)])
def test_a_pause_the_ledger_cannot_see_is_covered_by_the_hour_floor(min_idle_s: float, runs: int) -> None:
    """With the default floor the guarded call is replayed; with none, the run pays it twice."""
    ledger = MemoryLedger(max_threads=2, min_idle_s=min_idle_s)
    shield = make_shield(ledger=ledger)
    log: list[str] = []
    graph = _tool_node_beside_an_interrupt(shield, log, script(
        [call("lookup", {"q": "weather"}, "c1"), call("ask_user", {"question": "go on?"}, "c2")], "done"))
    config = new_config("paused")
    assert graph.invoke({"messages": [HumanMessage("go")]}, config).get("__interrupt__")
    for i in range(OTHERS):
        other: list[str] = []
        turns = script([call("lookup", {"q": f"other {i}"}, f"o{i}")], "done")
        _tool_node_beside_an_interrupt(shield, other, turns).invoke({"messages": [HumanMessage("go")]},
                                                                     new_config("other"))
    graph.invoke(Command(resume="yes"), config)
    assert log == ["weather"] * runs
    assert_paired(graph.get_state(config).values["messages"])
