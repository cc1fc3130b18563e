"""Text UTF-8 cannot carry (a lone surrogate) on its way into the SQLite ledger and audit trail, and out again.

Python strings hold such text in ordinary use: ``os.listdir`` gives a file name whose bytes are not UTF-8 as
``"report-\\udc80.txt"`` (``surrogateescape``), and a reviewer UI that cuts a reason at a fixed length may cut
an emoji in half, which JSON sends as ``"\\ud83d"``. Both used to raise ``UnicodeEncodeError`` from the SQLite
stores: after the tool had run (its claim left ``running``, so the call was never replayed, only refused as of
unknown outcome), and on every resume of a paused approval (the answer could never be resolved).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from airs_plugins import Action, Shield
from airs_plugins._cli import main
from airs_plugins._ledger import SQLiteLedger
from airs_plugins.audit import SQLiteRecorder, verify
from airs_plugins.langchain import AIRSMiddleware
from contract.harness import ToolFake, call, new_config, script

from ._fakes import core_policy

FILE_NAME = "report-\udc80.txt"  # what os.listdir gives for the bytes b"report-\x80.txt"
CUT_EMOJI = json.loads('{"type": "reject", "reviewer": "ann", "reason": "not this one \\ud83d"}')


@pytest.mark.parametrize("key", [None, "k" * 32], ids=["plain", "keyed"])
def test_the_ledger_keeps_such_text_whole(tmp_path: Path, key: str | None) -> None:
    ledger = SQLiteLedger(tmp_path / "ledger.db", key=key)
    for thread in ("t-\udc80", "t-\udc81", "t-plain"):
        assert ledger.claim(thread, "c-\udc80", "ls-\udc80") is None
        ledger.complete(thread, "c-\udc80", f"{FILE_NAME} in {thread}")
    for thread in ("t-\udc80", "t-\udc81", "t-plain"):  # ids that differ only in such text stay apart
        entry = ledger.get(thread, "c-\udc80")
        assert entry is not None and entry.state == "done" and entry.tool_name == "ls-\udc80"
        assert entry.content == f"{FILE_NAME} in {thread}"
        assert ledger.claim(thread, "c-\udc80", "ls-\udc80") == entry  # replayed, not claimed again
        assert [e.content for e in ledger.entries(thread)] == [entry.content]
    assert ledger.prune(idle_s=0, now=entry.at + 1) == (3, 3)


def test_unsigned_entries_holding_such_text_can_be_signed(tmp_path: Path) -> None:
    SQLiteLedger(tmp_path / "ledger.db").claim("t-\udc80", "c1", "ls")
    keyed = SQLiteLedger(tmp_path / "ledger.db", key="k" * 32)
    assert keyed.sign_unsigned() == 1
    entry = keyed.get("t-\udc80", "c1")
    assert entry is not None and entry.state == "running"


def test_an_agent_with_a_file_ledger_gets_the_tools_result(tmp_path: Path) -> None:
    """The tool ran, then recording its result raised: the run died, and the call could not be replayed."""
    runs: list[str] = []

    @tool
    def list_files(folder: str) -> str:
        """List the files of a folder."""
        runs.append(folder)
        return f"{FILE_NAME}\nnotes.txt"

    shield = Shield.default(ledger=tmp_path / "ledger.db", audit=tmp_path / "audit.db")
    graph = create_agent(ToolFake(responses=script([call("list_files", {"folder": "docs"}, "c1")], "done")),
                         [list_files], middleware=[AIRSMiddleware(shield)], checkpointer=InMemorySaver())
    out = graph.invoke({"messages": [HumanMessage("what is in docs?")]}, new_config())
    (result,) = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert result.content == f"{FILE_NAME}\nnotes.txt" and runs == ["docs"]
    assert out["messages"][-1].content == "done"
    assert verify(tmp_path / "audit.db").ok


def test_an_answer_with_half_an_emoji_is_resolved_and_audited(tmp_path: Path) -> None:
    shield = Shield.from_policy(core_policy(tools={"send": {"require_approval": True}}), audit=tmp_path / "a.db")
    request = shield.approval_request(shield.check_tool_call("send", {"to": "x"}, thread_id="t-\udc80"))
    for final in (shield.resolve_approval(request, CUT_EMOJI),
                  asyncio.run(shield.aresolve_approval(request, CUT_EMOJI))):
        assert final.action is Action.BLOCK and final.reason == "rejected by ann: not this one \ud83d"
    assert verify(tmp_path / "a.db").ok
    approvals = [r.body for r in SQLiteRecorder(tmp_path / "a.db").records() if r.kind == "approval"]
    assert [a["answers"][0]["reason"] for a in approvals] == [CUT_EMOJI["reason"]] * 2


def test_the_audit_cli_lists_and_exports_such_a_trail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trail, export = tmp_path / "a.db", tmp_path / "a.jsonl"
    recorder = SQLiteRecorder(trail)
    recorder.append("decision", {"action": "allow", "tool_name": "ls", "reason": f"read {FILE_NAME}"})
    recorder.close()
    assert main(["audit", "tail", str(trail)]) == 0
    assert "reason=read report-\\udc80.txt" in capsys.readouterr().out
    assert main(["audit", "tail", "--json", str(trail)]) == 0
    assert json.loads(capsys.readouterr().out)["entry"]["body"]["reason"] == f"read {FILE_NAME}"
    assert main(["audit", "export", str(trail), "-o", str(export)]) == 0
    assert verify(export).ok and verify(export).count == 1


def test_audit_tail_shows_what_the_model_wrote_without_obeying_it(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A tool name or a reason comes from the model or a reviewer: printed raw, an escape sequence in it cleared
    the line on the operator's terminal and wrote another in its place, and a bidi override reordered it."""
    trail = tmp_path / "a.db"
    recorder = SQLiteRecorder(trail)
    recorder.append("decision", {"action": "block", "tool_name": "wire\x1b[2K\r#1 decision allow", "reason": "x"})
    recorder.append("decision", {"action": "block", "tool_name": "pay\u202eyrrac", "reason": "x"})
    recorder.close()
    assert main(["audit", "tail", str(trail)]) == 0
    shown = capsys.readouterr().out
    assert "tool_name=wire\\x1b[2K\\r#1 decision allow" in shown and "tool_name=pay\\u202eyrrac" in shown
    assert "\x1b" not in shown and "\r" not in shown and "\u202e" not in shown
