"""An agent whose audit or ledger store stops answering stops too, before the tool runs (see
``tests/core/test_store_unavailable.py`` for the stores themselves)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool

from airs_plugins import AuditError, Shield
from airs_plugins._ledger import SQLiteLedger
from airs_plugins.audit import SQLiteRecorder
from airs_plugins.langchain import AIRSMiddleware
from contract.harness import ToolFake, call, new_config, script
from core.test_store_unavailable import write_locked


@pytest.mark.parametrize("store", ["ledger", "audit"])
def test_agent_stops_and_the_tool_never_runs(store: str, tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "ledger.db", timeout_s=0.05)
    audit = SQLiteRecorder(tmp_path / "audit.db", timeout_s=0.05)
    runs: list[str] = []

    @tool
    def lookup(q: str) -> str:
        """Look something up."""
        runs.append(q)
        return "found"

    graph = create_agent(ToolFake(responses=script([call("lookup", {"q": "x"}, "c1")], "done")), [lookup],
                         middleware=[AIRSMiddleware(Shield.default(ledger=ledger, audit=audit))])
    ledger.get("warm", "up")  # both files exist before the lock is taken
    with write_locked(ledger.path if store == "ledger" else audit.path), pytest.raises(AuditError):
        graph.invoke({"messages": [HumanMessage("look it up")]}, new_config())
    assert runs == []
