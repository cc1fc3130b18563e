"""Resume after a process restart: pause with SqliteSaver / AsyncSqliteSaver, build a fresh graph and
Shield on a new connection, resume, and the run completes with the right executions, exactly once."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.types import Command

from airs_plugins._ledger import SQLiteLedger
from airs_plugins.audit import verify
from contract.harness import (
    Executions,
    ToolFake,
    answer_for,
    assert_paired,
    build,
    call,
    make_shield,
    script,
)

TAINT_TURNS = [[call("read_inbox", {"folder": "in"}, "c_read")],
               [call("post_message", {"channel": "general", "text": "summary"}, "c_post"),
                call("send_email", {"to": "bob@example.com", "body": "hi"}, "c_send")], "ok"]


class Paths:
    def __init__(self, root: Path) -> None:
        self.checkpoints = root / "checkpoints.sqlite"
        self.ledger = root / "ledger.sqlite"
        self.audit = root / "audit.db"


def fresh(adapter: str, paths: Paths, ex: Executions, saver: Any, turns: list[Any]) -> Any:
    """A new Shield (file ledger and audit) and a new graph object: what a restarted process builds."""
    shield = make_shield(ledger=SQLiteLedger(paths.ledger), audit=paths.audit)
    return build(adapter, shield, ToolFake(responses=script(*turns)), ex, saver)


def by_tool(request: dict[str, Any]) -> Any:
    """Approve the e-mail, reject the tainted post."""
    return answer_for("approve" if request["tool_name"] == "send_email" else "reject")(request)


def finish_sync(graph: Any, config: dict[str, Any]) -> list[str]:
    asked: list[str] = []
    for _ in range(10):
        pending = graph.get_state(config).interrupts
        if not pending:
            return asked
        asked.extend(i.value["tool_name"] for i in pending)
        graph.invoke(Command(resume={i.id: by_tool(i.value) for i in pending}), config)
    raise AssertionError("never finished")


async def finish_async(graph: Any, config: dict[str, Any]) -> list[str]:
    asked: list[str] = []
    for _ in range(10):
        pending = (await graph.aget_state(config)).interrupts
        if not pending:
            return asked
        asked.extend(i.value["tool_name"] for i in pending)
        await graph.ainvoke(Command(resume={i.id: by_tool(i.value) for i in pending}), config)
    raise AssertionError("never finished")


def turns_for(adapter: str) -> list[Any]:
    # guarded tools keep a paused call's decision and the run's context in the ledger, so they restart
    # with the taint they paused with, like the adapters that keep it in graph state
    return TAINT_TURNS


@pytest.mark.parametrize("adapter", ["middleware", "nodes", "tools"])
def test_sync_restart_resumes_with_taint_and_exactly_once(adapter: str, tmp_path: Path) -> None:
    """A run paused on approvals resumes in a fresh process: taint kept, approved ran once, rejected never."""
    paths, ex, config = Paths(tmp_path), Executions(), {"configurable": {"thread_id": f"restart-{adapter}"}}
    turns = turns_for(adapter)
    conn = sqlite3.connect(paths.checkpoints, check_same_thread=False)
    first = fresh(adapter, paths, ex, SqliteSaver(conn), turns)
    out = first.invoke({"messages": [HumanMessage("do it")]}, config)
    assert out.get("__interrupt__")
    conn.close()

    conn2 = sqlite3.connect(paths.checkpoints, check_same_thread=False)
    second = fresh(adapter, paths, ex, SqliteSaver(conn2), turns)
    assert second is not first
    asked = finish_sync(second, config)
    state = second.get_state(config).values
    conn2.close()

    assert ex.of("send_email") == [{"to": "bob@example.com", "body": "hi"}]
    assert ex.of("post_message") == []
    assert len([n for n, _ in ex.log if n in ("read_inbox", "lookup")]) == 1
    assert_paired(state["messages"])
    assert state["messages"][-1].content == "ok"
    assert "post_message" in asked
    if adapter != "tools":  # guarded tools cannot write graph state
        assert state["airs_context"]["observations"][0]["attack_categories"] == ["injection"]
    assert verify(paths.audit).ok


@pytest.mark.parametrize("adapter", ["middleware", "nodes", "tools"])
async def test_async_restart_resumes_with_async_sqlite_saver(adapter: str, tmp_path: Path) -> None:
    """The same restart under ainvoke with AsyncSqliteSaver on a new connection completes correctly."""
    paths, ex, config = Paths(tmp_path), Executions(), {"configurable": {"thread_id": f"arestart-{adapter}"}}
    turns = turns_for(adapter)
    async with AsyncSqliteSaver.from_conn_string(str(paths.checkpoints)) as saver:
        first = fresh(adapter, paths, ex, saver, turns)
        out = await first.ainvoke({"messages": [HumanMessage("do it")]}, config)
        assert out.get("__interrupt__")
    async with AsyncSqliteSaver.from_conn_string(str(paths.checkpoints)) as saver2:
        second = fresh(adapter, paths, ex, saver2, turns)
        await finish_async(second, config)
        state = (await second.aget_state(config)).values
    assert ex.of("send_email") == [{"to": "bob@example.com", "body": "hi"}]
    assert ex.of("post_message") == []
    assert_paired(state["messages"])
    assert state["messages"][-1].content == "ok"


class Crash(BaseException):
    """The process dies mid-call (not an error the agent could handle)."""


@pytest.mark.parametrize("adapter", ["middleware", "nodes"])
def test_crash_mid_call_is_never_rerun(adapter: str, tmp_path: Path) -> None:
    """A call whose process died after the side effect is reported as unknown on resume, never re-run;
    a call that finished in the same step is replayed from the ledger, not executed again."""
    paths, ex, config = Paths(tmp_path), Executions(), {"configurable": {"thread_id": f"crash-{adapter}"}}
    turns = [[call("lookup", {"q": "a"}, "c_look"), call("flaky", {"x": 1}, "c_flaky")], "ok"]
    crash = {"armed": True}

    def with_flaky(base: Executions) -> list[Any]:
        @tool
        def flaky(x: int) -> str:
            """Does something outside, then the process may die."""
            base.log.append(("flaky", {"x": x}))
            if crash["armed"]:
                raise Crash
            return "flaky done"

        return [*base.tools(), flaky]

    ex.tools = lambda: with_flaky(Executions(log=ex.log))  # type: ignore[method-assign]
    conn = sqlite3.connect(paths.checkpoints, check_same_thread=False)
    first = fresh(adapter, paths, ex, SqliteSaver(conn), turns)
    with pytest.raises(Crash):
        first.invoke({"messages": [HumanMessage("go")]}, config)
    conn.close()
    crash["armed"] = False

    conn2 = sqlite3.connect(paths.checkpoints, check_same_thread=False)
    second = fresh(adapter, paths, ex, SqliteSaver(conn2), turns)
    second.invoke(None, config)
    state = second.get_state(config).values
    conn2.close()
    assert ex.of("flaky") == [{"x": 1}]
    assert ex.of("lookup") == [{"q": "a"}]
    answers = assert_paired(state["messages"])
    assert answers["c_flaky"].status == "error"
    assert "outcome is unknown" in answers["c_flaky"].content
    assert answers["c_look"].content == "result for a"

