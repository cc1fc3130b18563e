"""The abstract enforcement contract, run for every adapter × {sync, async} × {InMemorySaver, SqliteSaver}:
a blocked call never runs, every call gets exactly one ToolMessage, an approval resumes once, and an
injected tool result gates the next outward call."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from .harness import (
    ADAPTERS,
    INJECT,
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


class EnforcementContract:
    """Subclasses set the adapter, the path (sync or async) and the checkpointer."""

    adapter: ClassVar[str]
    sync: ClassVar[bool]
    saver: ClassVar[str]

    @pytest.fixture
    async def checkpointer(self, tmp_path: Path) -> AsyncIterator[Any]:
        if self.saver == "memory":
            yield InMemorySaver()
        elif self.sync:
            conn = sqlite3.connect(tmp_path / "checkpoints.sqlite", check_same_thread=False)
            yield SqliteSaver(conn)
            conn.close()
        else:
            async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "checkpoints.sqlite")) as saver:
                yield saver

    async def run(self, graph: Any, config: dict[str, Any], answer: str | None) -> tuple[list[Any], dict[str, Any]]:
        reviewer = answer_for(answer) if answer else None
        if self.sync:
            seen = run_sync(graph, "do the tasks", config, reviewer)
            return seen, graph.get_state(config).values
        seen = await run_async(graph, "do the tasks", config, reviewer)
        return seen, (await graph.aget_state(config)).values

    def agent(self, turns: list[Any], checkpointer: Any, **shield_kw: Any) -> tuple[Any, Executions, Any]:
        ex = Executions()
        shield = make_shield(**shield_kw)
        graph = build(self.adapter, shield, ToolFake(responses=script(*turns)), ex, checkpointer)
        return graph, ex, shield

    async def test_denied_tool_never_runs(self, checkpointer: Any) -> None:
        """A tool the policy denies never executes and its call is answered with an error ToolMessage."""
        graph, ex, _ = self.agent([[call("delete_all", {"scope": "everything"}, "c_del")], "ok"], checkpointer)
        seen, state = await self.run(graph, new_config(), None)
        assert seen == []
        assert ex.log == []
        msg = assert_paired(state["messages"])["c_del"]
        assert msg.status == "error"
        assert "denied by policy" in msg.content

    async def test_each_call_gets_one_tool_message(self, checkpointer: Any) -> None:
        """Allowed, denied and approved calls of one turn each get exactly one ToolMessage."""
        turn = [call("lookup", {"q": "a"}, "c1"), call("delete_all", {"scope": "x"}, "c2"),
                call("send_email", {"to": "bob@example.com", "body": "b"}, "c3")]
        graph, ex, _ = self.agent([turn, "ok"], checkpointer)
        _seen, state = await self.run(graph, new_config(), "approve")
        answers = assert_paired(state["messages"])
        assert [answers[c].status for c in ("c1", "c2", "c3")] == ["success", "error", "success"]
        assert [n for n, _ in ex.log if n != "lookup"] == ["send_email"]

    async def test_approval_resumes_once(self, checkpointer: Any) -> None:
        """An approved call runs exactly once and its execution is completed in the ledger."""
        graph, ex, shield = self.agent([[call("transfer", {"amount": 7, "to": "acct-9"}, "c_pay")], "ok"],
                                       checkpointer)
        config = new_config()
        seen, state = await self.run(graph, config, "approve")
        assert [r["tool_name"] for r in seen] == ["transfer"]
        assert seen[0]["tool_args"] == {"amount": 7, "to": "acct-9"}
        assert ex.of("transfer") == [{"amount": 7, "to": "acct-9"}]
        # one entry for the call, named by its id within the task that ran it (providers reuse call ids)
        (entry,) = [e for e in shield.ledger.entries(config["configurable"]["thread_id"])
                    if e.tool_call_id.startswith("c_pay@")]
        assert entry.state == "done"
        assert entry.content == "moved 7"
        assert assert_paired(state["messages"])["c_pay"].content == "moved 7"

    async def test_injected_result_gates_next_outward_call(self, checkpointer: Any) -> None:
        """After a tool result carrying an injection, the next external call needs a human (taint)."""
        turns = [[call("read_inbox", {"folder": "in"}, "c_read")],
                 [call("post_message", {"channel": "general", "text": "summary"}, "c_post")], "ok"]
        graph, ex, _ = self.agent(turns, checkpointer)
        seen, state = await self.run(graph, new_config(), "reject")
        assert [r["tool_name"] for r in seen] == ["post_message"]
        assert "untrusted" in seen[0]["reason"]
        assert ex.of("read_inbox") == [{"folder": "in"}]
        assert ex.of("post_message") == []
        answers = assert_paired(state["messages"])
        assert INJECT not in answers["c_read"].content
        assert answers["c_read"].content.startswith("[AIRS withheld")
        assert answers["c_post"].status == "error"
        if self.adapter != "tools":
            observations = state["airs_context"]["observations"]
            assert [o["attack_categories"] for o in observations] == [["injection"]]

    async def test_clean_outward_call_is_not_gated(self, checkpointer: Any) -> None:
        """An external call made before anything untrusted was read runs without a human."""
        graph, ex, _ = self.agent([[call("post_message", {"channel": "general", "text": "hi"}, "c_post")], "ok"],
                                  checkpointer)
        seen, _state = await self.run(graph, new_config(), None)
        assert seen == []
        assert ex.of("post_message") == [{"channel": "general", "text": "hi"}]


for _adapter in ADAPTERS:
    for _sync in (True, False):
        for _saver in ("memory", "sqlite"):
            _name = f"Test{_adapter.title()}{'Sync' if _sync else 'Async'}{_saver.title()}"
            globals()[_name] = type(_name, (EnforcementContract,),
                                    {"adapter": _adapter, "sync": _sync, "saver": _saver,
                                     "__doc__": f"The contract for {_adapter}, {'sync' if _sync else 'async'}, "
                                                f"{_saver} checkpointer."})
