"""AIRSEventHandler: records LLM calls, tool spans and workflow outputs; observes and cannot block."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _li_support import Counted, make_agent, make_shield

from airs_plugins._context import suppressed
from airs_plugins.audit import MemoryRecorder
from airs_plugins.llamaindex import AIRSEventHandler, guard_tools
from airs_plugins.llamaindex.testing import answer, call


@pytest.fixture
def installed() -> Iterator[list[AIRSEventHandler]]:
    """Handlers installed by a test, removed afterwards even when it fails."""
    handlers: list[AIRSEventHandler] = []
    yield handlers
    for h in handlers:
        h.uninstall()


def _install(handlers: list[AIRSEventHandler], handler: AIRSEventHandler) -> AIRSEventHandler:
    handlers.append(handler.install())
    return handler


class TestRecording:
    async def test_records_llm_calls_tool_spans_and_outputs_with_matching_ids(
            self, installed: list[AIRSEventHandler]) -> None:
        """A guarded run leaves llm_call, tool_span and workflow_output records that link to its decisions."""
        counted = Counted()
        counted.inbox_text = "nothing new"
        shield = make_shield()
        _install(installed, AIRSEventHandler(shield))
        agent = make_agent("function", guard_tools(counted.tools(), shield), [call("read_inbox"), answer("done")])
        await agent.run(user_msg="read my mail")
        records = list(shield.recorder.records())
        kinds = [r.kind for r in records]
        assert kinds.count("llm_call") == 2
        assert kinds.count("workflow_output") >= 1
        spans = [r.body for r in records if r.kind == "tool_span"]
        step_span = next(s for s in spans if s["kind"] == "agent.call_tool")
        tool_span = next(s for s in spans if s["kind"] == "tool.acall" and s["tool_name"] == "read_inbox"
                         and s["parent_span_id"] == step_span["span_id"])
        execution = next(r.body for r in records if r.kind == "tool_execution")
        decision = next(r.body for r in records if r.kind == "decision" and r.body["channel"] == "tool_call")
        assert step_span["tool_id"] == "call-0-0"
        assert execution["span_id"] == tool_span["span_id"]
        assert decision["tool_call_id"].startswith(step_span["call_identity"] + ":")
        assert execution["correlation_id"] == decision["correlation_id"]
        assert {s["status"] for s in spans} == {"ok"}
        llm = next(r.body for r in records if r.kind == "llm_call")
        assert llm["li_run_id"] == execution["li_run_id"] is not None
        assert llm["response_digest"].startswith("sha256:")

    async def test_install_and_uninstall_are_idempotent(self, installed: list[AIRSEventHandler]) -> None:
        """Installing twice records once; after uninstall nothing is recorded."""
        from llama_index_instrumentation import get_dispatcher

        shield = make_shield()
        handler = _install(installed, AIRSEventHandler(shield))
        handler.install()
        root = get_dispatcher()
        assert sum(1 for h in root.event_handlers if h is handler) == 1
        assert sum(1 for h in root.span_handlers if h is handler.span_handler) == 1
        handler.uninstall()
        handler.uninstall()
        assert handler not in root.event_handlers
        agent = make_agent("function", [], [answer("hi")])
        await agent.run(user_msg="hello")
        assert [r.kind for r in shield.recorder.records()] == []

    async def test_nothing_is_recorded_while_suppressed(self, installed: list[AIRSEventHandler]) -> None:
        """Inside suppressed() (the judge's own model calls) the handler stays silent."""
        shield = make_shield()
        _install(installed, AIRSEventHandler(shield))
        agent = make_agent("function", [], [answer("hi")])
        with suppressed():
            await agent.run(user_msg="hello")
        assert [r.kind for r in shield.recorder.records()] == []


class ExplodingRecorder(MemoryRecorder):
    """A recorder that fails on every append, as a broken audit store would."""

    def append(self, kind: str, body: Any) -> Any:
        raise RuntimeError("audit store is down")


class TestCannotBlock:
    async def test_a_raising_handler_cannot_break_the_agent(self, installed: list[AIRSEventHandler]) -> None:
        """Even when every record raises, the agent's LLM calls and tools run and the run completes."""
        counted = Counted()
        counted.inbox_text = "nothing new"
        _install(installed, AIRSEventHandler(make_shield(audit=ExplodingRecorder())))
        shield = make_shield()  # the tools' own shield records normally
        agent = make_agent("function", guard_tools(counted.tools(), shield), [call("read_inbox"), answer("done")])
        result = await agent.run(user_msg="read my mail")
        assert "done" in str(result)
        assert counted.count("read_inbox") == 1
