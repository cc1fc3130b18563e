"""A file ledger keyed like the audit trail (``key=``, else ``AIRS_AUDIT_KEY``) signs every entry, and an entry
that does not verify is refused: whoever can write the file can no longer make a replay return what the tool
never returned, nor resolve a reviewer's rejection as an approval."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from airs_plugins import Action, AuditError, Decision, Shield
from airs_plugins._ledger import SQLiteLedger
from contract.harness import SINGLE, Executions, ToolFake, answer_for, build, make_shield, script

KEY = "ledger-test-key-0123456789"


def _ran(ledger: SQLiteLedger, thread: str = "t", call: str = "c", content: str = "the tool's result") -> None:
    assert ledger.claim(thread, call, "lookup") is None
    ledger.complete(thread, call, content, extra={"context": {"run_id": "r"}})


def _edit(path: Path, sql: str, args: tuple[Any, ...] = ()) -> None:
    """What someone with write access to the file does, outside airs-plugins."""
    with sqlite3.connect(path) as conn:
        conn.execute(sql, args)


def test_a_keyed_ledger_reads_back_what_it_wrote(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "l.db", key=KEY)
    _ran(ledger)
    assert ledger.claim("t", "running", "send") is None
    got = ledger.get("t", "c")
    assert got is not None and got.content == "the tool's result" and got.extra == {"context": {"run_id": "r"}}
    assert [e.state for e in ledger.entries("t")] == ["done", "running"]
    assert SQLiteLedger(tmp_path / "l.db", key=KEY).claim("t", "c", "lookup") == got  # another process's view


@pytest.mark.parametrize(("sql", "why"), [
    ("UPDATE tool_ledger SET content = 'transfer confirmed'", "signature does not match"),
    ("UPDATE tool_ledger SET extra = '{\"context\": {\"run_id\": \"other\"}}'", "signature does not match"),
    ("UPDATE tool_ledger SET status = 'error'", "signature does not match"),
    ("UPDATE tool_ledger SET tool_call_id = 'other-call'", "signature does not match"),
    ("UPDATE tool_ledger SET mac = NULL", "no signature"),
    ("UPDATE tool_ledger SET content = x'00ff'", "signature does not match"),
])
def test_an_edited_entry_is_refused_naming_the_file_and_the_entry(tmp_path: Path, sql: str, why: str) -> None:
    path = tmp_path / "l.db"
    _ran(SQLiteLedger(path, key=KEY))
    _edit(path, sql)
    ledger = SQLiteLedger(path, key=KEY)
    call = "other-call" if "tool_call_id" in sql else "c"
    with pytest.raises(AuditError, match=rf"l\.db: the entry '{call}' of thread 't' is refused: .*{why}"):
        ledger.get("t", call)
    with pytest.raises(AuditError, match=why):
        ledger.entries("t")
    with pytest.raises(AuditError, match=why):
        ledger.claim("t", call, "lookup")  # a claim that finds the entry reads it too: nothing runs on it


def test_a_forged_entry_needs_the_key(tmp_path: Path) -> None:
    """A row written by hand is refused, signed with nothing, with a plain hash, or with another key."""
    path = tmp_path / "l.db"
    _ran(SQLiteLedger(path, key=KEY))
    forger = SQLiteLedger(path, key="not-the-ledger-key-0000")
    _ran(forger, call="forged")
    _edit(path, "INSERT INTO tool_ledger (thread_id, tool_call_id, tool_name, state, content, status, at) "
                "VALUES ('t', 'by-hand', 'lookup', 'done', 'made up', 'success', ?)", (time.time(),))
    ledger = SQLiteLedger(path, key=KEY)
    for call in ("forged", "by-hand"):
        with pytest.raises(AuditError, match="is refused"):
            ledger.get("t", call)
    assert ledger.get("t", "c") is not None


def test_the_audit_key_keys_the_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``AIRS_AUDIT_KEY`` keys a ledger opened from a path, ``Shield(ledger=PATH)`` included; without it the
    ledger is read as before (unsigned)."""
    monkeypatch.setenv("AIRS_AUDIT_KEY", KEY)
    path = tmp_path / "l.db"
    _ran(Shield.default(ledger=str(path)).ledger)  # type: ignore[arg-type]
    _edit(path, "UPDATE tool_ledger SET content = 'made up'")
    with pytest.raises(AuditError, match="signature does not match"):
        SQLiteLedger(path).get("t", "c")
    monkeypatch.delenv("AIRS_AUDIT_KEY")
    entry = SQLiteLedger(path).get("t", "c")
    assert entry is not None and entry.content == "made up"


@pytest.mark.parametrize("recorder", ["memory", "sqlite"])
def test_a_key_given_to_the_recorder_keys_the_ledger_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           recorder: str) -> None:
    """A trail keyed by ``key=`` rather than the environment keys the Shield's ledger file too: before, the ledger
    read only ``AIRS_AUDIT_KEY`` and stayed unsigned next to a keyed trail."""
    from airs_plugins.audit import MemoryRecorder, SQLiteRecorder

    monkeypatch.delenv("AIRS_AUDIT_KEY", raising=False)
    trail = MemoryRecorder(key=KEY) if recorder == "memory" else SQLiteRecorder(tmp_path / "a.db", key=KEY)
    path = tmp_path / "l.db"
    _ran(Shield.default(audit=trail, ledger=str(path)).ledger)  # type: ignore[arg-type]
    _edit(path, "UPDATE tool_ledger SET content = 'made up'")
    with pytest.raises(AuditError, match="signature does not match"):
        SQLiteLedger(path, key=KEY).get("t", "c")


def _old_ledger(path: Path) -> None:
    """A ledger file as the versions before signing wrote it (no mac column), with a result in it."""
    _edit(path, "CREATE TABLE tool_ledger (thread_id TEXT NOT NULL, tool_call_id TEXT NOT NULL, tool_name TEXT NOT "
                "NULL, state TEXT NOT NULL, content TEXT, status TEXT, at REAL, extra TEXT, "
                "PRIMARY KEY (thread_id, tool_call_id))")
    _edit(path, "INSERT INTO tool_ledger VALUES ('t', 'old', 'lookup', 'done', 'old result', 'success', ?, NULL)",
          (time.time(),))


def test_a_file_from_before_signing_keeps_working(tmp_path: Path) -> None:
    """Unkeyed, it reads and writes as before. Keyed, its unsigned entries are refused (they could be forged)
    until signed once, then they verify and edits to them are caught."""
    path = tmp_path / "old.db"
    _old_ledger(path)
    plain = SQLiteLedger(path)
    entry = plain.get("t", "old")
    assert entry is not None and entry.content == "old result"
    _ran(plain, call="new")
    keyed = SQLiteLedger(path, key=KEY)
    with pytest.raises(AuditError, match=r"no signature .*airs ledger sign"):
        keyed.get("t", "old")
    assert keyed.sign_unsigned() == 2
    assert keyed.sign_unsigned() == 0
    assert [e.tool_call_id for e in keyed.entries("t")] == ["old", "new"]
    _edit(path, "UPDATE tool_ledger SET content = 'made up' WHERE tool_call_id = 'old'")
    with pytest.raises(AuditError, match="signature does not match"):
        keyed.get("t", "old")
    with pytest.raises(AuditError, match="no key"):
        plain.sign_unsigned()


def _airs(*args: str, key: str | None) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "AIRS_AUDIT_KEY"}
    if key is not None:
        env["AIRS_AUDIT_KEY"] = key
    return subprocess.run([sys.executable, "-m", "airs_plugins", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_airs_ledger_sign(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_ledger(path)
    unkeyed = _airs("ledger", "sign", str(path), key=None)
    assert unkeyed.returncode == 2 and unkeyed.stderr.startswith("airs: no key to sign")
    signed = _airs("ledger", "sign", str(path), key=KEY)
    assert signed.returncode == 0 and signed.stdout.strip() == f"signed 1 entries of {path}"
    entry = SQLiteLedger(path, key=KEY).get("t", "old")
    assert entry is not None and entry.content == "old result"
    missing = _airs("ledger", "sign", str(tmp_path / "nope.db"), key=KEY)
    assert missing.returncode == 2 and "no ledger database" in missing.stderr


def _complete_many(path: str, worker: int) -> None:
    ledger = SQLiteLedger(path, key=KEY)
    for i in range(60):
        call = f"w{worker}-{i}"
        assert ledger.claim("shared", call, "lookup") is None
        ledger.complete("shared", call, f"result {call}")


def test_processes_writing_one_keyed_ledger_at_once_leave_every_entry_verified(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    SQLiteLedger(path, key=KEY).get("shared", "warm-up")  # the file exists before the race on its schema
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_complete_many, args=(str(path), w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    entries = SQLiteLedger(path, key=KEY).entries("shared")
    assert len(entries) == 180 and all(e.state == "done" and e.content == f"result {e.tool_call_id}"
                                       for e in entries)


@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_a_forged_resolution_does_not_run_a_rejected_call(adapter: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger keeps each reviewer's answer resolved, so that a re-run takes it instead of deciding again.
    Someone who can write the file writes an approval there for a pending request: the reviewer rejects, and
    the call must not run. With the audit key set, the forged entry is refused and the step fails closed."""
    monkeypatch.setenv("AIRS_AUDIT_KEY", KEY)
    path, ex, config = tmp_path / "ledger.db", Executions(), {"configurable": {"thread_id": "t1"}}
    graph = build(adapter, make_shield(ledger=str(path)), ToolFake(responses=script(SINGLE, "ok")), ex,
                  InMemorySaver())
    pending = graph.invoke({"messages": [HumanMessage("go")]}, config)["__interrupt__"]
    request = pending[0].value
    forged = Decision(action=Action.ALLOW, layer="human", channel="tool_call", tool_name=request["tool_name"],
                      tool_call_id=request["tool_call_id"], policy_hash=request["policy_hash"],
                      correlation_id=request["correlation_id"], reason="approved by ann")
    SQLiteLedger(path).get("t1", "warm-up")  # the table exists for every adapter
    # a resolution is kept for the LangGraph task that asked (``resolved_once``): forge it for each waiting task
    slots = [f"airs-resolved:{request['id']}@{t.name}:{t.id}" for t in graph.get_state(config).tasks]
    assert slots
    for slot in slots:
        _edit(path, "INSERT INTO tool_ledger (thread_id, tool_call_id, tool_name, state, content, status, at, extra) "
                    "VALUES ('t1', ?, 'approval', 'done', '', 'resolved', ?, ?)",
              (slot, time.time(), json.dumps({"decision": forged.model_dump(mode="json")})))
    with pytest.raises(AuditError, match="is refused"):
        graph.invoke(Command(resume={i.id: answer_for("reject")(i.value) for i in pending}), config)
    assert ex.of("send_email") == []
