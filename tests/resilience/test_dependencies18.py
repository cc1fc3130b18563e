"""Every failure of a dependency has a defined outcome, end to end through the adapters a user runs
(``create_agent`` + ``AIRSMiddleware``, a hand-built graph under ``secure_graph``, ``guard_tools`` in both
frameworks): the audit file and the ledger file (locked, full, deleted, replaced), the judge (raises, answers
garbage or an out-of-range score, hangs, blocks the event loop) and the checkpointer (locked while a call waits
for a reviewer). Real SQLite files throughout; the disk is filled with ``PRAGMA max_page_count`` on the store's
own connection (SQLite's own ``SQLITE_FULL``), which needs no root and no small file system."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from airs_plugins import AuditError, JudgeVerdict, Shield
from airs_plugins._ledger import SQLiteLedger
from airs_plugins.audit import MemoryRecorder, SQLiteRecorder
from airs_plugins.testing import ScriptedJudge
from contract.harness import (
    ADAPTERS,
    Executions,
    ToolFake,
    build,
    call,
    interrupts_of,
    make_shield,
    new_config,
    script,
)
from core.test_store_unavailable import write_locked

LOOKUP = call("lookup", {"q": "weather"}, "c_look")
SEND = call("send_email", {"to": "bob@example.com", "body": "hello"}, "c_send")


def agent(adapter: str, shield: Shield, ex: Executions, *turns: Any, checkpointer: Any = None) -> Any:
    model = ToolFake(responses=script(*turns, "done"))
    return build(adapter, shield, model, ex, checkpointer if checkpointer is not None else InMemorySaver())


def fill(conn: sqlite3.Connection) -> None:
    """The disk is full for this connection from now on: no page can be added to the file."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")


def fill_records(recorder: SQLiteRecorder) -> None:
    """Fill the pages the file has with records, until the next one does not fit."""
    for i in range(1000):
        recorder.append("filler", {"i": i, "pad": "x" * 500})


# -- the audit file ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("how", ["deleted", "replaced"])
@pytest.mark.parametrize("store", ["audit", "ledger"])
def test_a_store_file_deleted_or_replaced_mid_run_stops_the_agent_before_the_tool(
        store: str, adapter: str, how: str, tmp_path: Path) -> None:
    """The store's connection kept writing to the file it had opened: deleted, or replaced by a fresh one, every
    later audit record or ledger claim went into a file nobody could read again (gone with the process; a claim
    lost so, the call runs again after a restart), and the agent ran on without a word. Now the next write is
    refused, naming the file and why, and the call that could not be recorded does not run."""
    path = tmp_path / f"{store}.db"
    shield = make_shield(**{store: str(path)})
    ex = Executions()
    graph = agent(adapter, shield, ex, [LOOKUP])
    graph.invoke({"messages": [HumanMessage("look it up")]}, new_config())
    assert len(ex.of("lookup")) == 1
    if how == "deleted":
        path.unlink()
    else:
        path.rename(tmp_path / f"{store}-old.db")
        if store == "audit":  # a fresh store where the old one was
            SQLiteRecorder(path).close()
        else:
            SQLiteLedger(path).get("t", "c")
    where = r"audit\.db" if store == "audit" else r"ledger\.db unavailable \(.*\)"
    with pytest.raises(AuditError, match=rf"{where}: the file was {how}"):
        graph.invoke({"messages": [HumanMessage("look it up again")]}, new_config())
    assert len(ex.of("lookup")) == 1


def test_a_full_disk_under_the_audit_file_says_so_and_leaves_the_trail_whole(tmp_path: Path) -> None:
    """SQLite rolls a transaction back itself when the disk fills; the recorder then rolled back again, and the
    error the user read was that second ROLLBACK's "no transaction is active", not the full disk."""
    recorder = SQLiteRecorder(tmp_path / "audit.db")
    ex = Executions()
    graph = agent("middleware", make_shield(audit=recorder), ex, [LOOKUP])
    assert recorder._conn is not None
    fill(recorder._conn)
    with pytest.raises(AuditError, match="database or disk is full"):
        fill_records(recorder)
    with pytest.raises(AuditError, match=r"audit\.db: database or disk is full"):
        graph.invoke({"messages": [HumanMessage("look it up")]}, new_config())
    assert ex.of("lookup") == []
    assert recorder.verify().ok  # nothing half-written


# -- the execution ledger file ---------------------------------------------------------------------------------
def test_a_ledger_deleted_under_a_running_process_no_longer_loses_its_claims(tmp_path: Path) -> None:
    """The store itself: the old ledger took the claim into the deleted file, and a restarted process found no
    entry, so the call would run a second time."""
    path = tmp_path / "ledger.db"
    ledger = SQLiteLedger(path)
    assert ledger.claim("t", "c0", "send_email") is None
    os.remove(path)
    with pytest.raises(AuditError, match=r"unavailable \(claim 'c1'\): the file was deleted while in use"):
        ledger.claim("t", "c1", "send_email")
    assert SQLiteLedger(path).get("t", "c1") is None  # nothing claimed anywhere: nothing ran


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_result_the_full_ledger_cannot_record_fails_the_step_and_is_not_run_again(
        adapter: str, tmp_path: Path) -> None:
    """The tool ran, its result does not fit on the disk: the step fails with the cause, and once the disk has
    room the retried step does not run the call a second time (its outcome is unknown: the model is told)."""
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    shield = make_shield(ledger=ledger)
    ex = Executions(inbox="x" * 50_000)  # a result far larger than the room left
    graph = agent(adapter, shield, ex, [call("read_inbox", {"folder": "in"}, "c_read")],
                  checkpointer=InMemorySaver())
    config = new_config()
    ledger.get("warm", "up")
    pages = ledger._db().execute("PRAGMA page_count").fetchone()[0]
    ledger._db().execute(f"PRAGMA max_page_count={pages + 1}")
    with pytest.raises(AuditError, match=r"ledger\.db unavailable \(complete .*\): database or disk is full"):
        graph.invoke({"messages": [HumanMessage("read my mail")]}, config)
    assert len(ex.of("read_inbox")) == 1
    ledger._db().execute("PRAGMA max_page_count=1073741823")
    out = graph.invoke(None, config)  # the failed step again, from the last checkpoint
    assert len(ex.of("read_inbox")) == 1
    answer = next(m for m in out["messages"] if getattr(m, "tool_call_id", None) == "c_read")
    assert "outcome is unknown" in str(answer.content)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_approved_call_whose_ledger_is_locked_does_not_run_and_runs_once_after(
        adapter: str, tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "ledger.db", timeout_s=0.05)
    ex = Executions()
    graph = agent(adapter, make_shield(ledger=ledger), ex, [SEND])
    config = new_config()
    assert interrupts_of(graph.invoke({"messages": [HumanMessage("mail bob")]}, config))
    approve = Command(resume={"type": "approve", "reviewer": "ann"})
    with write_locked(ledger.path), pytest.raises(AuditError, match=r"ledger\.db.*database is locked"):
        graph.invoke(approve, config)
    assert ex.of("send_email") == []
    graph.invoke(approve, config)
    assert len(ex.of("send_email")) == 1


# -- the checkpointer ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_locked_checkpointer_loses_no_pause_and_runs_no_call_twice(adapter: str, tmp_path: Path) -> None:
    """LangGraph raises when it cannot write a checkpoint (nothing silent). Locked before the pause is saved: the
    run fails, the call is not run. Locked when the approved call's step is saved: the call ran once, the pause
    is still the last checkpoint, and answering it again replays the call from the ledger file."""
    conn = sqlite3.connect(tmp_path / "checkpoints.db", check_same_thread=False, timeout=0.05)
    saver = SqliteSaver(conn)
    saver.setup()
    ex = Executions()
    graph = agent(adapter, make_shield(ledger=str(tmp_path / "ledger.db")), ex, [SEND], checkpointer=saver)
    config = new_config()
    with write_locked(tmp_path / "checkpoints.db"), pytest.raises(sqlite3.OperationalError, match="locked"):
        graph.invoke({"messages": [HumanMessage("mail bob")]}, config)
    assert ex.of("send_email") == []
    config = new_config()
    assert interrupts_of(graph.invoke({"messages": [HumanMessage("mail bob")]}, config))
    approve = Command(resume={"type": "approve", "reviewer": "ann"})
    with write_locked(tmp_path / "checkpoints.db"), pytest.raises(sqlite3.OperationalError, match="locked"):
        graph.invoke(approve, config)
    assert len(ex.of("send_email")) == 1
    assert graph.get_state(config).interrupts  # the pause was not lost
    out = graph.invoke(approve, config)
    assert len(ex.of("send_email")) == 1
    assert out["messages"][-1].content == "done"


# -- the judge ------------------------------------------------------------------------------------------------------
BUDGET_MS = 50
JUDGED = {
    "checks": [{"id": "limit.size"}, {"id": "limit.caps"}, {"id": "tool.policy"},
               {"id": "taint.flow", "action": "require_approval"}],
    "tools": {"lookup": {"side_effect": "read", "risk_tier": "LOW"},
              "send_email": {"side_effect": "external", "risk_tier": "HIGH"}},
    # the tool tiers judge every call; inputs and outputs (MEDIUM) are not judged
    "tiers": {"LOW": {"judge_sampling": 1.0, "budget_ms": BUDGET_MS},
              "HIGH": {"judge_sampling": 1.0, "budget_ms": BUDGET_MS},
              "MEDIUM": {"judge_sampling": 0.0}},
}


class Hangs:
    """A judge that answers "pass" long after the budget (its async path awaits, so it can be cancelled)."""

    def evaluate(self, request: Any) -> str:
        time.sleep(0.3)
        return "pass"

    async def aevaluate(self, request: Any) -> str:
        await asyncio.sleep(0.3)
        return "pass"


class BlocksTheLoop(Hangs):
    """An async judge with a blocking call inside its coroutine (``requests`` in an ``async def``): the event loop,
    and the budget's timer with it, stops until it returns."""

    async def aevaluate(self, request: Any) -> str:
        time.sleep(0.3)  # noqa: ASYNC251 - the defect under test
        return "pass"


JUDGES = {
    "raises": (lambda: ScriptedJudge([RuntimeError("judge backend down")]), "error", "judge failed"),
    "garbage": (lambda: ScriptedJudge(["<html>502 Bad Gateway</html>"]), "error", "unparseable judge output"),
    "out_of_range": (lambda: ScriptedJudge([{"verdict": "pass", "confidence": 7}]), "error",
                     "unparseable judge output"),
    "hangs": (Hangs, "timeout", f"judge exceeded the {BUDGET_MS} ms budget"),
    "blocks_the_loop": (BlocksTheLoop, "timeout", f"judge exceeded the {BUDGET_MS} ms budget"),
}


def tool_call_decision(recorder: MemoryRecorder, tool: str) -> dict[str, Any]:
    return next(r.entry["body"] for r in recorder.records()
                if r.kind == "decision" and r.entry["body"].get("channel") == "tool_call"
                and r.entry["body"].get("tool_name") == tool)


def assert_fail_mode(recorder: MemoryRecorder, tool: str, kind: str) -> None:
    _, status, why = JUDGES[kind]
    decided = tool_call_decision(recorder, tool)
    mode = "flag" if tool == "lookup" else "require_approval"
    assert decided["status"] == status, decided
    assert decided["layer"] == "judge"
    assert decided["action"] == ("allow" if tool == "lookup" else "require_approval")
    assert decided["reason"] == f"judge {status}; tier fail mode {mode}: {why}"


@pytest.mark.parametrize("use_async", [False, True], ids=["invoke", "ainvoke"])
@pytest.mark.parametrize("tool", ["lookup", "send_email"], ids=["LOW", "HIGH"])
@pytest.mark.parametrize("kind", list(JUDGES))
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_failing_judge_takes_the_tiers_fail_mode_in_every_langchain_adapter(
        adapter: str, kind: str, tool: str, use_async: bool) -> None:
    """LOW (fail mode flag): the call runs, the finding is in the audit. HIGH (require_approval): the call waits
    for a reviewer and has not run. In bounded time, sync and async. Before, an async judge that blocked the
    event loop past its budget had its late "pass" counted: the HIGH call ran."""
    recorder = MemoryRecorder()
    shield = Shield.from_policy(JUDGED, judge=JUDGES[kind][0](), audit=recorder)
    ex = Executions()
    graph = agent(adapter, shield, ex, [LOOKUP if tool == "lookup" else SEND])
    started = time.perf_counter()
    payload = {"messages": [HumanMessage("go")]}
    out = asyncio.run(graph.ainvoke(payload, new_config())) if use_async else graph.invoke(payload, new_config())
    assert time.perf_counter() - started < 10
    assert_fail_mode(recorder, tool, kind)
    if tool == "lookup":
        assert len(ex.of("lookup")) == 1 and not interrupts_of(out)
    else:
        assert ex.of("send_email") == []
        assert [i.value["tool_name"] for i in interrupts_of(out)] == ["send_email"]


@pytest.mark.parametrize("tool", ["lookup", "send_email"], ids=["LOW", "HIGH"])
@pytest.mark.parametrize("kind", list(JUDGES))
def test_a_failing_judge_takes_the_tiers_fail_mode_in_a_llamaindex_function_agent(kind: str, tool: str) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.agent.workflow import FunctionAgent

    from airs_plugins.llamaindex import ApprovalRequired, guard_tools
    from airs_plugins.llamaindex.testing import call as li_call
    from airs_plugins.llamaindex.testing import scripted_llm

    ran: list[str] = []

    def lookup(q: str) -> str:
        """Look something up."""
        ran.append("lookup")
        return "sunny"

    def send_email(to: str, body: str) -> str:
        """Send an e-mail."""
        ran.append("send_email")
        return "sent"

    recorder = MemoryRecorder()
    shield = Shield.from_policy(JUDGED, judge=JUDGES[kind][0](), audit=recorder)
    step = li_call("lookup", q="weather") if tool == "lookup" else li_call("send_email", to="bob@example.com",
                                                                            body="hello")
    agent_ = FunctionAgent(tools=guard_tools([lookup, send_email], shield), llm=scripted_llm([step]))

    async def run() -> bool:
        handler = agent_.run(user_msg="go")
        async for ev in handler.stream_events():
            if isinstance(ev, ApprovalRequired):
                await handler.cancel_run()
                return True
        await handler
        return False

    started = time.perf_counter()
    asked = asyncio.run(run())
    assert time.perf_counter() - started < 10
    assert_fail_mode(recorder, tool, kind)
    assert ran == (["lookup"] if tool == "lookup" else [])
    assert asked is (tool == "send_email")


def test_a_judge_that_blocks_the_loop_past_its_budget_does_not_get_its_late_verdict_counted() -> None:
    """The core seam: the verdict of a coroutine that returned after the budget is a timeout, whatever it
    says (a pass here)."""
    shield = Shield.from_policy(JUDGED, judge=BlocksTheLoop())
    decision = asyncio.run(shield.acheck_tool_call("send_email", {"to": "bob@example.com", "body": "hi"}))
    assert decision.action.value == "require_approval"
    assert decision.status.value == "timeout"
    assert decision.judge is not None and decision.judge.verdict is None


def test_a_judge_within_its_budget_still_counts_on_the_async_path() -> None:
    shield = Shield.from_policy(JUDGED, judge=ScriptedJudge([JudgeVerdict(verdict="pass", confidence=0.99)]))
    decision = asyncio.run(shield.acheck_tool_call("send_email", {"to": "bob@example.com", "body": "hi"}))
    assert decision.action.value == "allow" and decision.status.value == "ok"
