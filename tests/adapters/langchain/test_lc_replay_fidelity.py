"""A call replayed from the execution ledger gives back what its run returned, guarded, not only its text.

A call is replayed when its task runs again after it finished: the re-run after a reviewer released its
result, a restart after the tool ran. Before, the ledger kept the answer's text only, so a replay lost the
tool's ``Command`` (its state writes, the messages it added, its ``goto``), the answer's artifact and its
content blocks: a reviewed result came back as if the tool had written nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
from pathlib import Path
from typing import Annotated, Any, NotRequired

import ormsgpack
import pytest
from langchain.agents import AgentState, create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, InjectedToolCallId, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END
from langgraph.types import Command

from airs_plugins import Action, Channel, Shield
from airs_plugins._ledger import SQLiteLedger
from airs_plugins.langchain import AIRSMiddleware, guard_tools
from airs_plugins.langchain._kept import KEPT_KEY, restored, to_keep
from contract.harness import (
    POLICY,
    SECRET,
    MarkerCheck,
    ToolFake,
    answer_for,
    assert_paired,
    call,
    new_config,
    run_async,
    run_sync,
    script,
)
from contract.rules import RuleCheck, rule

CHECK_ME = "ZX-RESULT-REVIEW"
"""A tool result carrying this needs a reviewer before the model reads it."""


class NotesState(AgentState[Any]):
    notes: NotRequired[str]
    fetched: NotRequired[int]


class Opaque:
    """An artifact no serializer knows."""


def shield(**kwargs: Any) -> Shield:
    review = RuleCheck(rule(CHECK_ME, Channel.TOOL_RESULT, Action.REQUIRE_APPROVAL), check_id="test.review")
    return Shield.from_policy(POLICY, checks=[MarkerCheck(), review], **kwargs)


class Fetch:
    """``fetch`` returns what ``make(tool_call_id)`` builds; its runs are counted."""

    def __init__(self, make: Any) -> None:
        self.make, self.runs = make, 0

    def tools(self) -> list[BaseTool]:
        owner = self

        @tool
        def fetch(url: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> Any:
            """Fetch a page."""
            owner.runs += 1
            return owner.make(tool_call_id)

        return [fetch]


def agent(adapter: str, fetch: Fetch, sh: Shield, checkpointer: Any = None) -> tuple[Any, ToolFake]:
    model = ToolFake(responses=script([call("fetch", {"url": "x"}, "c1")], "done"))
    tools = fetch.tools()
    middleware = [AIRSMiddleware(sh)] if adapter == "middleware" else []
    graph = create_agent(model, tools if adapter == "middleware" else guard_tools(tools, sh), middleware=middleware,
                         state_schema=NotesState, checkpointer=checkpointer or InMemorySaver())
    return graph, model


def reviewed(adapter: str, make: Any, kind: str, mode: str = "invoke",
             sh: Shield | None = None) -> tuple[dict[str, Any], Fetch, list[Any]]:
    fetch = Fetch(make)
    graph, _model = agent(adapter, fetch, sh or shield())
    config = new_config()
    if mode == "ainvoke":
        asked = asyncio.run(run_async(graph, "go", config, answer_for(kind)))
    else:
        asked = run_sync(graph, "go", config, answer_for(kind))
    return graph.get_state(config).values, fetch, asked


def as_command(cid: str) -> Any:
    return Command(update={"notes": "kept", "messages": [ToolMessage(f"page {CHECK_ME}", tool_call_id=cid),
                                                         AIMessage("noted", id="added-1")]})


def as_list(cid: str) -> Any:
    return [ToolMessage(f"page {CHECK_ME}", tool_call_id=cid, artifact={"rows": [1, 2]}),
            Command(update={"notes": "kept", "messages": [AIMessage("noted", id="added-1")]})]


def answer(values: dict[str, Any]) -> ToolMessage:
    return assert_paired(values["messages"])["c1"]


def added(values: dict[str, Any]) -> list[str]:
    return [str(m.content) for m in values["messages"] if m.id == "added-1"]


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize("make", [as_command, as_list], ids=["command", "list"])
@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_a_released_result_keeps_the_tools_writes(adapter: str, make: Any, mode: str) -> None:
    values, fetch, asked = reviewed(adapter, make, "approve", mode)
    assert fetch.runs == 1 and [a["channel"] for a in asked] == ["tool_result"]
    assert answer(values).content == f"page {CHECK_ME}"
    assert values.get("notes") == "kept"
    assert added(values) == ["noted"]
    if make is as_list:
        assert answer(values).artifact == {"rows": [1, 2]}


@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_a_withheld_result_keeps_the_writes_but_not_what_the_tool_said(adapter: str) -> None:
    """Rejected, as when the guard withholds a result at once: the tool ran, so its state writes without text
    stand; what it said (the answer, its artifact, the messages it added, the text it wrote to state, which a
    prompt built from state would show the model) does not reach the model."""
    values, fetch, _asked = reviewed(adapter, lambda cid: [
        *as_list(cid), Command(update={"fetched": 1, "notes": f"more of the page {CHECK_ME}"})], "reject")
    assert fetch.runs == 1
    assert "withheld" in str(answer(values).content) and answer(values).artifact is None
    assert values.get("fetched") == 1
    assert "notes" not in values
    assert added(values) == []
    assert CHECK_ME not in str([m.content for m in values["messages"]])


@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_a_released_result_keeps_its_blocks(adapter: str) -> None:
    blocks = [{"type": "text", "text": f"chart {CHECK_ME}"},
              {"type": "image", "source_type": "base64", "data": "iVBORw0KGgo=", "mime_type": "image/png"}]
    values, _fetch, _asked = reviewed(adapter, lambda cid: ToolMessage(blocks, tool_call_id=cid), "approve")
    assert answer(values).content == blocks


@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_an_artifact_nothing_can_serialize_is_dropped_and_said(adapter: str) -> None:
    sh = shield()
    values, _fetch, _asked = reviewed(adapter, lambda cid: [
        ToolMessage(f"page {CHECK_ME}", tool_call_id=cid, artifact=Opaque()),
        Command(update={"notes": "kept"})], "approve", sh=sh)
    assert values.get("notes") == "kept"
    assert answer(values).content == f"page {CHECK_ME}" and answer(values).artifact is None
    (replay,) = [r.body for r in sh.recorder.records() if r.kind == "tool_execution" and r.body.get("replayed")]
    assert replay["lost"] == "artifact"


def test_a_released_result_keeps_the_tools_writes_across_a_restart(tmp_path: Path) -> None:
    """Paused on the review with SqliteSaver and a file ledger; a fresh process resumes it: the tool does not
    run again, and its Command's writes land from what the file kept."""
    db, config = tmp_path / "checkpoints.sqlite", new_config("replay-restart")
    fetch = Fetch(as_command)

    def fresh(conn: sqlite3.Connection) -> Any:
        sh = shield(ledger=SQLiteLedger(tmp_path / "ledger.sqlite"))
        return agent("middleware", fetch, sh, SqliteSaver(conn))[0]

    conn = sqlite3.connect(db, check_same_thread=False)
    out = fresh(conn).invoke({"messages": [HumanMessage("go")]}, config)
    (pending,) = out["__interrupt__"]
    conn.close()

    conn2 = sqlite3.connect(db, check_same_thread=False)
    second = fresh(conn2)
    second.invoke(Command(resume={pending.id: answer_for("approve")(pending.value)}), config)
    values = second.get_state(config).values
    conn2.close()
    assert fetch.runs == 1
    assert values.get("notes") == "kept" and added(values) == ["noted"]
    assert values["messages"][-1].content == "done"


def test_what_is_kept_comes_back_as_it_was() -> None:
    """Pairs stay pairs (the serializer makes them lists, which LangGraph would read as messages; a tool may return
    them where the state is applied by a graph, not ``ToolNode``); ``goto`` and ``graph`` are kept."""
    message = ToolMessage("ok", tool_call_id="c1", name="fetch")
    command = Command(graph=Command.PARENT, goto=END, update=[("notes", "kept"), ("messages", [message])])
    back = restored(to_keep(message, command))
    assert back is not None
    got_message, got_command = back
    assert got_message == message
    assert isinstance(got_command, Command)
    assert (got_command.graph, got_command.goto, got_command.update) == (Command.PARENT, END, command.update)


def test_what_cannot_be_read_is_not_restored() -> None:
    assert restored({"type": "msgpack", "data": "bm90IG1zZ3BhY2s="}) is None
    assert restored({"lost": "artifact"}) is None
    assert restored(None) is None


@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_what_is_kept_is_the_guarded_answer(adapter: str, tmp_path: Path) -> None:
    """The ledger file holds the answer the guard let through: a secret redacted in a listed answer's artifact (whose raw
    form is an item of the tool's list) is not kept."""
    sh = shield(ledger=SQLiteLedger(tmp_path / "ledger.sqlite"))
    fetch = Fetch(lambda cid: [ToolMessage("page", tool_call_id=cid, artifact={"raw": f"key {SECRET}"}),
                               Command(update={"notes": "kept"})])
    graph, _model = agent(adapter, fetch, sh)
    config = new_config()
    graph.invoke({"messages": [HumanMessage("go")]}, config)
    assert answer(graph.get_state(config).values).artifact == {"raw": "key [REDACTED]"}
    with sqlite3.connect(tmp_path / "ledger.sqlite") as conn:
        rows = [json.loads(extra) for (extra,) in conn.execute("SELECT extra FROM tool_ledger WHERE extra IS NOT NULL")]
    (entry,) = [row[KEPT_KEY] for row in rows if KEPT_KEY in row]
    back = restored(entry)
    assert back is not None
    assert SECRET not in repr(back)
    assert back[0].artifact == {"raw": "key [REDACTED]"}


def test_an_edited_ledger_entry_runs_no_code(tmp_path: Path) -> None:
    """Whoever can write the ledger file (not the checkpoints) rewrites what was kept for a paused call: the
    serializer's default would import and call what the entry names (here ``exec``) when the re-run replays it."""
    marker = tmp_path / "ran"
    ledger = tmp_path / "ledger.sqlite"
    fetch = Fetch(as_command)
    graph, _model = agent("middleware", fetch, shield(ledger=SQLiteLedger(ledger)))
    config = new_config()
    (pending,) = graph.invoke({"messages": [HumanMessage("go")]}, config)["__interrupt__"]

    code = ormsgpack.packb(("builtins", "exec", f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x')"))
    evil = {"type": "msgpack", "data": base64.b64encode(ormsgpack.packb([ormsgpack.Ext(0, code), None])).decode()}
    with sqlite3.connect(ledger) as conn:
        rows = [(rowid, json.loads(extra)) for rowid, extra in
                conn.execute("SELECT rowid, extra FROM tool_ledger WHERE extra IS NOT NULL")]
        (rowid, extra), = [(r, e) for r, e in rows if KEPT_KEY in e]
        conn.execute("UPDATE tool_ledger SET extra = ? WHERE rowid = ?", (json.dumps({**extra, KEPT_KEY: evil}), rowid))

    graph.invoke(Command(resume={pending.id: answer_for("approve")(pending.value)}), config)
    assert not marker.exists()
    assert fetch.runs == 1
