"""Providers that reuse tool-call ids: llama.cpp sends one constant id for every call, others number the
calls of each round from zero. A later call that reuses an id is a new call: it is decided, asked about
and run like any other. Before, the execution ledger (keyed by thread and call id) replayed the first
call's result to it, so the tool never ran again and the model read a stale answer."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from airs_plugins._ledger import SQLiteLedger
from airs_plugins.langchain import AIRSMiddleware
from contract.harness import (
    ADAPTERS,
    POLICY,
    Executions,
    ToolFake,
    answer_for,
    assert_paired,
    build,
    call,
    make_shield,
    new_config,
    run_async,
    run_sync,
    script,
)


def run(adapter: str, turns: list[Any], mode: str, answer: Any = None) -> tuple[Executions, list[Any], list[Any]]:
    ex = Executions()
    graph = build(adapter, make_shield(), ToolFake(responses=script(*turns)), ex, InMemorySaver())
    config = new_config()
    if mode == "ainvoke":
        asked = asyncio.run(run_async(graph, "go", config, answer))
    else:
        asked = run_sync(graph, "go", config, answer)
    return ex, asked, graph.get_state(config).values["messages"]


def results(messages: list[Any]) -> list[str]:
    return [str(m.content) for m in messages if m.type == "tool"]


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_reused_id_is_a_new_call(adapter: str, mode: str) -> None:
    turns = [[call("lookup", {"q": "weather"}, "call_0")], [call("lookup", {"q": "traffic"}, "call_0")],
             [call("lookup", {"q": "weather"}, "call_0")], "done"]
    ex, _asked, messages = run(adapter, turns, mode)
    assert ex.of("lookup") == [{"q": "weather"}, {"q": "traffic"}, {"q": "weather"}]
    assert results(messages) == ["result for weather", "result for traffic", "result for weather"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_approval_does_not_carry_over_to_a_reused_id(adapter: str) -> None:
    """The reviewer approved the first transfer; the second one, under the same id, is asked about anew."""
    turns = [[call("transfer", {"amount": 5, "to": "acct-1"}, "call_0")],
             [call("transfer", {"amount": 5000, "to": "acct-9"}, "call_0")], "done"]
    answers = iter(["approve", "reject"])

    def reviewer(request: dict[str, Any]) -> Any:  # approves the first request, rejects the second
        return answer_for(next(answers))(request)

    ex, asked, messages = run(adapter, turns, "invoke", reviewer)
    assert [(r["tool_name"], r["tool_args"]) for r in asked] == [("transfer", {"amount": 5, "to": "acct-1"}),
                                                               ("transfer", {"amount": 5000, "to": "acct-9"})]
    assert ex.of("transfer") == [{"amount": 5, "to": "acct-1"}]
    assert results(messages)[0] == "moved 5" and "not executed" in results(messages)[1]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_reused_id_paused_then_resumed_after_a_restart(adapter: str, tmp_path: Path) -> None:
    """Paused on the second call under a reused id; a fresh process resumes it: the first call is not run
    again and the second runs exactly once."""
    turns = [[call("lookup", {"q": "rates"}, "call_0")], [call("transfer", {"amount": 7, "to": "acct-1"}, "call_0")],
             "done"]
    ex, config, db = Executions(), new_config("reuse-restart"), tmp_path / "checkpoints.sqlite"

    def fresh(conn: sqlite3.Connection) -> Any:
        shield = make_shield(ledger=SQLiteLedger(tmp_path / "ledger.sqlite"))
        return build(adapter, shield, ToolFake(responses=script(*turns)), ex, SqliteSaver(conn))

    conn = sqlite3.connect(db, check_same_thread=False)
    out = fresh(conn).invoke({"messages": [HumanMessage("go")]}, config)
    (pending,) = out["__interrupt__"]
    conn.close()
    conn2 = sqlite3.connect(db, check_same_thread=False)
    graph = fresh(conn2)
    graph.invoke(Command(resume={pending.id: answer_for("approve")(pending.value)}), config)
    messages = graph.get_state(config).values["messages"]
    conn2.close()
    assert ex.of("lookup") == [{"q": "rates"}]
    assert ex.of("transfer") == [{"amount": 7, "to": "acct-1"}]
    assert results(messages) == ["result for rates", "moved 7"]
    assert messages[-1].content == "done"
    assert_paired(messages[-3:-1])


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_approval_does_not_carry_over_to_a_reused_id_with_the_same_arguments(adapter: str) -> None:
    """The same transfer again under the same id is a new call: the reviewer is asked again. Before, the
    LangGraph nodes found the first call's approved record (same id, same arguments) and ran it unasked."""
    transfer = call("transfer", {"amount": 5, "to": "acct-1"}, "call_0")
    answers = iter(["approve", "reject"])

    def reviewer(request: dict[str, Any]) -> Any:
        return answer_for(next(answers))(request)

    ex, asked, messages = run(adapter, [[transfer], [transfer], "done"], "invoke", reviewer)
    assert [r["tool_args"] for r in asked] == [{"amount": 5, "to": "acct-1"}] * 2
    assert ex.of("transfer") == [{"amount": 5, "to": "acct-1"}]
    assert results(messages)[0] == "moved 5" and "not executed" in results(messages)[1]


MIDDLEWARE_OPTIONS = [{"guard_output": False}, {"guard_input": False, "guard_output": False},
                      {"guard_output": False, "stream_before_guard": True}, {"guard_input": False}]


@pytest.mark.parametrize("second", ["approve", "reject"])
@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize("options", MIDDLEWARE_OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_no_middleware_option_carries_an_approval_over_to_a_reused_id(options: dict[str, Any], mode: str,
                                                                     second: str) -> None:
    """Whatever the middleware guards, the same transfer again under the same id is asked about anew, and each
    approved call runs once (the resume of the paused call takes its own decision). Before, with the output
    guard off, nothing overwrote the first call's approved record, and the second call ran on it unasked."""
    transfer = call("transfer", {"amount": 5, "to": "acct-1"}, "call_0")
    answers = iter(["approve", second])

    def reviewer(request: dict[str, Any]) -> Any:
        return answer_for(next(answers))(request)

    ex = Executions()
    model = ToolFake(responses=script([transfer], [transfer], "done"))
    graph = create_agent(model, ex.tools(), middleware=[AIRSMiddleware(make_shield(), **options)],
                         checkpointer=InMemorySaver())
    config = new_config()
    if mode == "ainvoke":
        asked = asyncio.run(run_async(graph, "go", config, reviewer))
    else:
        asked = run_sync(graph, "go", config, reviewer)
    messages = graph.get_state(config).values["messages"]
    assert [r["tool_args"] for r in asked] == [{"amount": 5, "to": "acct-1"}] * 2
    assert ex.of("transfer") == [{"amount": 5, "to": "acct-1"}] * (2 if second == "approve" else 1)
    first, then = results(messages)
    assert first == "moved 5"
    assert (then == "moved 5") if second == "approve" else ("not executed" in then)


@pytest.mark.parametrize("options", MIDDLEWARE_OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_a_later_turn_reusing_an_approved_id_is_asked_again(options: dict[str, Any]) -> None:
    """The same across invokes: the user's second request, answered with the same call under the same id."""
    transfer = call("transfer", {"amount": 5, "to": "acct-1"}, "call_0")
    ex = Executions()
    model = ToolFake(responses=script([transfer], "first done", [transfer], "second done"))
    graph = create_agent(model, ex.tools(), middleware=[AIRSMiddleware(make_shield(), **options)],
                         checkpointer=InMemorySaver())
    config = new_config()
    first = run_sync(graph, "pay acct-1", config, answer_for("approve"))
    out = graph.invoke({"messages": [HumanMessage("pay acct-1 again")]}, config)
    assert len(first) == 1 and len(out.get("__interrupt__", ())) == 1
    assert ex.of("transfer") == [{"amount": 5, "to": "acct-1"}]


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_the_loop_cap_counts_calls_that_reuse_one_id(adapter: str, mode: str) -> None:
    """llama.cpp's constant id on a model that loops on one call: caps.identical_calls still stops it. Before,
    the LangGraph nodes decided only the first call and ran every repeat on its record."""
    ex = Executions()
    shield = make_shield(policy={**POLICY, "caps": {"identical_calls": 3}})
    turns: list[Any] = [[call("lookup", {"q": "weather"}, "call_0")]] * 6 + ["done"]
    graph = build(adapter, shield, ToolFake(responses=script(*turns)), ex, InMemorySaver())
    config = new_config()
    if mode == "ainvoke":
        asyncio.run(run_async(graph, "go", config, None))
    else:
        run_sync(graph, "go", config, None)
    messages = graph.get_state(config).values["messages"]
    assert ex.of("lookup") == [{"q": "weather"}] * 3
    assert len(results(messages)) == 6 and all("not executed" in r for r in results(messages)[3:])
    assert sum(r.kind == "decision" and r.body.get("channel") == "tool_call" for r in shield.recorder.records()) == 6
