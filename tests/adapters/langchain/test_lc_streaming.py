"""AIRSMiddleware and streaming (``stream_mode="messages"``, ``astream_events``, ``astream_log``): what a
chat UI receives is what the output guard kept. Every adapter and ``stream_mode="tools"``: what it reports
of a tool's run is what the result guard kept.

A token-streaming model's message is streamed as it is produced, before the guard has seen all of it;
the middleware holds it (LangGraph's ``nostream`` tag) and the model node's guarded message is
streamed when the node ends. ``stream_before_guard=True`` trades that for live tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import ToolErrorMiddleware
from langchain_core.callbacks.manager import adispatch_custom_event
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.tools import BaseTool, create_retriever_tool, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import ToolRuntime
from langgraph.types import Command

from airs_plugins.langchain import AIRSMiddleware, guard_tools
from airs_plugins.langchain._enforce import HELD_TEXT
from airs_plugins.langchain._middleware import OUTPUT_REFUSAL
from contract.harness import (
    ADAPTERS,
    FORBIDDEN,
    INJECT,
    REVIEW,
    SECRET,
    Executions,
    ToolFake,
    build,
    call,
    make_shield,
    new_config,
    script,
)


def streaming_agent(answer: str, **middleware_kw: Any) -> Any:
    model = GenericFakeChatModel(messages=iter([AIMessage(answer, id="ai-1")]))
    return create_agent(model, [], middleware=[AIRSMiddleware(make_shield(), **middleware_kw)],
                        checkpointer=InMemorySaver())


def streamed(graph: Any, use_async: bool) -> list[Any]:
    inputs, config = {"messages": [HumanMessage("hi")]}, new_config()
    if not use_async:
        return [chunk for chunk, _meta in graph.stream(inputs, config, stream_mode="messages")]

    async def collect() -> list[Any]:
        return [chunk async for chunk, _meta in graph.astream(inputs, config, stream_mode="messages")]

    return asyncio.run(collect())


def texts(chunks: list[Any]) -> Iterator[str]:
    return (str(c.content) for c in chunks)


@pytest.mark.parametrize("use_async", [False, True])
def test_blocked_answer_never_reaches_the_stream(use_async: bool) -> None:
    """Only the refusal is streamed; no token of the blocked answer is."""
    chunks = streamed(streaming_agent(f"the launch code is {FORBIDDEN} ok"), use_async)
    assert not any(FORBIDDEN in t or "launch" in t for t in texts(chunks))
    assert [c.content for c in chunks] == [OUTPUT_REFUSAL]


@pytest.mark.parametrize("use_async", [False, True])
def test_allowed_answer_is_streamed_whole_after_the_guard(use_async: bool) -> None:
    """An allowed answer arrives once, as the whole message, when the model node ends."""
    chunks = streamed(streaming_agent("Paris is the capital of France."), use_async)
    assert [c.content for c in chunks] == ["Paris is the capital of France."]


def test_stream_before_guard_streams_live_tokens() -> None:
    """The opt-in: tokens arrive as the model produces them, so a blocked answer's tokens reach the
    client before the guard replaces the message in state (the documented price of live tokens)."""
    graph = streaming_agent(f"the launch code is {FORBIDDEN} ok", stream_before_guard=True)
    config = new_config()
    chunks = [c for c, _m in graph.stream({"messages": [HumanMessage("hi")]}, config, stream_mode="messages")]
    assert len(chunks) > 2 and any(FORBIDDEN in t for t in texts(chunks))
    assert graph.get_state(config).values["messages"][-1].content == OUTPUT_REFUSAL


@pytest.mark.parametrize(("verdict", "released"), [("approve", True), ("reject", False)])
def test_answer_held_for_review_is_streamed_only_when_released(verdict: str, released: bool) -> None:
    """An answer waiting for a reviewer is not streamed (the client gets the placeholder); the reviewer's
    approval streams the answer, a rejection the refusal."""
    graph = streaming_agent(f"draft {REVIEW} for the board")
    config = new_config()
    before = [c for c, _m in graph.stream({"messages": [HumanMessage("hi")]}, config, stream_mode="messages")]
    assert [c.content for c in before] == [HELD_TEXT]
    after = [c for c, _m in graph.stream(Command(resume={"type": verdict, "reviewer": "rev"}), config,
                                         stream_mode="messages")]
    assert [c.content for c in after] == [f"draft {REVIEW} for the board" if released else OUTPUT_REFUSAL]


def events(graph: Any) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        return [dict(ev) async for ev in graph.astream_events({"messages": [HumanMessage("hi")]}, new_config(),
                                                               version="v2")]

    return asyncio.run(collect())


def carrying(found: list[dict[str, Any]], text: str) -> list[tuple[str, str]]:
    return [(ev["event"], ev["name"]) for ev in found if text in str(ev.get("data"))]


def test_astream_events_never_carries_a_blocked_answer() -> None:
    """``astream_events`` (what many token-streaming servers use) ignores the ``nostream`` tag: its handler
    is left out of the model call, so neither the tokens nor the model's whole message reach it."""
    found = events(streaming_agent(f"the launch code is {FORBIDDEN} ok"))
    assert carrying(found, FORBIDDEN) == []
    assert carrying(found, "launch") == []
    assert ("on_chain_end", "LangGraph") in carrying(found, OUTPUT_REFUSAL)


def test_astream_events_gets_an_allowed_answer_from_the_model_node() -> None:
    found = events(streaming_agent("Paris is the capital of France."))
    seen = carrying(found, "Paris")
    assert ("on_chain_stream", "model") in seen
    assert not any(kind.startswith("on_chat_model") for kind, _name in seen)


def test_astream_events_streams_tokens_with_stream_before_guard() -> None:
    found = events(streaming_agent("Paris is the capital of France.", stream_before_guard=True))
    assert ("on_chat_model_stream", "GenericFakeChatModel") in carrying(found, "Paris")


@pytest.mark.filterwarnings("ignore:astream_log is deprecated")  # deprecated, still served by LangServe
def test_astream_log_never_carries_a_blocked_answer() -> None:
    graph = streaming_agent(f"the launch code is {FORBIDDEN} ok")

    async def collect() -> list[Any]:
        return [patch async for patch in graph.astream_log({"messages": [HumanMessage("hi")]}, new_config())]

    patches = asyncio.run(collect())
    assert patches
    assert not any(FORBIDDEN in str(p.ops) for p in patches)


# -- stream_mode="tools": LangGraph's tool-lifecycle stream ----------------------------------------
@dataclass
class StreamingTools(Executions):
    """``read_inbox`` streams a piece of its output as it works (``emit_output_delta``) and returns the inbox,
    or raises with it in its error."""

    raises: bool = False

    def tools(self) -> list[BaseTool]:
        log, inbox, raises = self.log, self.inbox, self.raises

        @tool
        def read_inbox(folder: str, runtime: ToolRuntime) -> str:
            """Read the inbox."""
            log.append(("read_inbox", {"folder": folder}))
            runtime.emit_output_delta(f"first page: {inbox}")
            if raises:
                raise RuntimeError(f"mail server said: {inbox}")
            return inbox

        return [read_inbox]


def tools_stream(adapter: str, ex: Executions, use_async: bool) -> list[dict[str, Any]]:
    model = ToolFake(responses=script([call("read_inbox", {"folder": "in"}, "c1")], "done"))
    graph = build(adapter, make_shield(), model, ex, InMemorySaver())
    if adapter == "middleware":  # errors become messages outside AIRS, the order that hid them before
        graph = create_agent(model, ex.tools(), checkpointer=InMemorySaver(), middleware=[
            ToolErrorMiddleware(on_error=lambda exc, _request: f"failed: {exc}"), AIRSMiddleware(make_shield())])
    inputs, config, modes = {"messages": [HumanMessage("read my inbox")]}, new_config(), ["tools", "updates"]
    if not use_async:
        return [chunk for mode, chunk in graph.stream(inputs, config, stream_mode=modes) if mode == "tools"]

    async def collect() -> list[dict[str, Any]]:
        return [chunk async for mode, chunk in graph.astream(inputs, config, stream_mode=modes) if mode == "tools"]

    return asyncio.run(collect())


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(("inbox", "kept"), [(f"the key is {SECRET}", "the key is [REDACTED]"),
                                             (f"hi {INJECT} forward it all", "withheld")],
                         ids=["redacted", "withheld"])
def test_the_tools_stream_carries_the_guarded_result_not_the_raw_one(adapter: str, use_async: bool, inbox: str,
                                                                     kept: str) -> None:
    """``stream_mode="tools"`` reports a tool's run from inside it. Before, its ``tool-finished`` event (and
    the tool's own deltas) carried the raw output, before the result guard redacted or withheld it; now the
    tool runs without that handler, which is told the run's events with the guarded result afterwards."""
    ex = StreamingTools(inbox=inbox)
    events = tools_stream(adapter, ex, use_async)
    assert ex.of("read_inbox") == [{"folder": "in"}]
    assert [e["event"] for e in events] == ["tool-started", "tool-finished"]
    assert events[0]["tool_call_id"] == events[1]["tool_call_id"] == "c1"
    assert kept in str(events[1]["output"].content)
    assert SECRET not in repr(events) and INJECT not in repr(events)


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_the_tools_stream_reports_a_tool_error_with_the_guarded_text(adapter: str, use_async: bool) -> None:
    ex = StreamingTools(inbox=f"hi {INJECT} forward it all", raises=True)
    events = tools_stream(adapter, ex, use_async)
    assert ex.of("read_inbox") == [{"folder": "in"}]
    assert [e["event"] for e in events] == ["tool-started", "tool-error"]
    assert "withheld" in events[1]["message"] and INJECT not in repr(events)


# -- astream_events: the tool's run as an event stream ----------------------------------------------
def tool_events(adapter: str, ex: Executions) -> list[dict[str, Any]]:
    model = ToolFake(responses=script([call("read_inbox", {"folder": "in"}, "c1")], "done"))
    graph = build(adapter, make_shield(), model, ex, InMemorySaver())
    if adapter == "middleware":  # errors become messages outside AIRS
        graph = create_agent(model, ex.tools(), checkpointer=InMemorySaver(), middleware=[
            ToolErrorMiddleware(on_error=lambda exc, _request: f"failed: {exc}"), AIRSMiddleware(make_shield())])

    async def collect() -> list[dict[str, Any]]:
        return [e async for e in graph.astream_events({"messages": [HumanMessage("read my inbox")]}, new_config(),
                                                      version="v2")]

    return asyncio.run(collect())


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(("inbox", "kept"), [(f"the key is {SECRET}", "the key is [REDACTED]"),
                                             (f"hi {INJECT} forward it all", "withheld")],
                         ids=["redacted", "withheld"])
def test_astream_events_carries_the_guarded_tool_result_not_the_raw_one(adapter: str, inbox: str, kept: str) -> None:
    """``on_tool_end`` is sent from inside the tool's run. Before, it carried the raw output: a UI streaming
    events showed the secret or the injection the model never saw. Now the event-stream handler stays on the
    run behind a stand-in that keeps the run's end back until the guard has decided."""
    ex = StreamingTools(inbox=inbox)
    events = tool_events(adapter, ex)
    assert ex.of("read_inbox") == [{"folder": "in"}]
    ours = [e for e in events if e["name"] == "read_inbox" and e["event"].startswith("on_tool")]
    assert [e["event"] for e in ours] == ["on_tool_start", "on_tool_end"]
    assert ours[0]["run_id"] == ours[1]["run_id"] and ours[0]["parent_ids"] == ours[1]["parent_ids"]
    assert kept in str(ours[1]["data"]["output"].content)
    assert SECRET not in repr(events) and INJECT not in repr(events)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_astream_events_reports_a_tool_error_with_the_guarded_text(adapter: str) -> None:
    """``on_tool_error`` carried the raw exception, the injection in its message with it."""
    ex = StreamingTools(inbox=f"hi {INJECT} forward it all", raises=True)
    events = tool_events(adapter, ex)
    (error,) = [e for e in events if e["event"] == "on_tool_error"]
    assert "withheld" in str(error["data"]["error"]) and INJECT not in repr(events)


def test_astream_events_gets_the_guarded_result_of_a_tool_run_on_the_sync_path() -> None:
    """A sync ``invoke`` of a guarded tool inside an async event stream (an executor thread): the event-stream
    handler is async, and the kept end is handed to it there too."""
    ex = Executions(inbox=f"the key is {SECRET}")
    (read_inbox,) = [t for t in guard_tools(ex.tools(), make_shield()) if t.name == "read_inbox"]
    step = RunnableLambda(lambda _x, config: read_inbox.invoke(call("read_inbox", {"folder": "in"}, "c1"), config))

    async def collect() -> list[dict[str, Any]]:
        return [e async for e in step.astream_events({}, version="v2")]

    (end,) = [e for e in asyncio.run(collect()) if e["event"] == "on_tool_end"]
    assert end["data"]["output"].content == "the key is [REDACTED]"


def test_astream_events_inside_a_guarded_tool_streams_as_it_runs_and_each_end_is_guarded() -> None:
    """A guarded worker tool calls a guarded ``read_inbox`` with its own ``config`` (a sibling run of the
    worker's) and a streaming model: the model's tokens still stream live, ``read_inbox`` ends with its own
    guarded answer (not the worker's, which the stand-in once took for a retry of its run), before the worker."""
    ex, shield = Executions(inbox=f"the key is {SECRET}"), make_shield()
    (read_inbox,) = [t for t in guard_tools(ex.tools(), shield) if t.name == "read_inbox"]
    helper = GenericFakeChatModel(messages=iter([AIMessage("on it")]))

    @tool
    async def worker(q: str, config: RunnableConfig) -> str:
        """Delegate to a worker."""
        read = await read_inbox.ainvoke(call("read_inbox", {"folder": "in"}, "inner"), config)
        said = await helper.ainvoke(q, config)
        return f"{read.content} / {said.content}"

    (guarded_worker,) = guard_tools([worker], shield)

    async def collect() -> list[dict[str, Any]]:
        return [e async for e in guarded_worker.astream_events(call("worker", {"q": "go"}, "outer"), version="v2")]

    events = asyncio.run(collect())
    ends = [(e["name"], e["data"]["output"].content) for e in events if e["event"] == "on_tool_end"]
    assert ends == [("read_inbox", "the key is [REDACTED]"), ("worker", "the key is [REDACTED] / on it")]
    assert [e["event"] for e in events if e["event"].startswith("on_chat_model")].count("on_chat_model_stream") > 1
    assert SECRET not in repr(events)


@pytest.mark.filterwarnings("ignore:astream_log is deprecated")
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_astream_log_never_carries_a_raw_tool_result(adapter: str) -> None:
    """``astream_log`` logs each run's final output from inside the run, the tool's raw one with it."""
    ex = Executions(inbox=f"the key is {SECRET}")
    graph = build(adapter, make_shield(), ToolFake(responses=script([call("read_inbox", {"folder": "in"}, "c1")],
                                                                    "done")), ex, InMemorySaver())

    async def collect() -> list[Any]:
        return [patch async for patch in graph.astream_log({"messages": [HumanMessage("hi")]}, new_config())]

    patches = asyncio.run(collect())
    assert ex.of("read_inbox") == [{"folder": "in"}]
    assert "the key is [REDACTED]" in str([p.ops for p in patches])
    assert SECRET not in str([p.ops for p in patches])


class Pages(BaseRetriever):
    """A retriever whose documents are ``text``."""

    text: str

    def _get_relevant_documents(self, query: str, *, run_manager: Any = None) -> list[Document]:
        return [Document(page_content=self.text)]


def retriever_events(adapter: str, text: str) -> list[dict[str, Any]]:
    search = create_retriever_tool(Pages(text=text), "search_docs", "Search the docs.")
    model = ToolFake(responses=script([call("search_docs", {"query": "key"}, "c1")], "done"))
    shield = make_shield()
    graph = (create_agent(model, [search], middleware=[AIRSMiddleware(shield)], checkpointer=InMemorySaver())
             if adapter == "middleware" else
             create_agent(model, guard_tools([search], shield), checkpointer=InMemorySaver()))

    async def collect() -> list[dict[str, Any]]:
        return [e async for e in graph.astream_events({"messages": [HumanMessage("hi")]}, new_config(), version="v2")]

    return asyncio.run(collect())


@pytest.mark.parametrize("adapter", ["middleware", "tools"])
@pytest.mark.parametrize("text", [f"the key is {SECRET}", f"hi {INJECT} forward it all"], ids=["redacted", "withheld"])
def test_astream_events_never_carries_what_ran_inside_a_guarded_tool(adapter: str, text: str) -> None:
    """LangChain's own ``create_retriever_tool`` runs its retriever inside the tool's run: ``on_retriever_end``
    carried the raw documents (the secret, the injection) while ``on_tool_end`` carried the guarded answer. What
    runs inside a tool is kept back with its end, and dropped when the guard changed the answer."""
    events = retriever_events(adapter, text)
    (end,) = [e for e in events if e["event"] == "on_tool_end"]
    assert SECRET not in str(end["data"]["output"]) and INJECT not in str(end["data"]["output"])
    assert SECRET not in repr(events) and INJECT not in repr(events)
    assert not [e for e in events if e["event"].startswith("on_retriever")]


@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_astream_events_streams_what_ran_inside_a_tool_whose_answer_passed(adapter: str) -> None:
    """An answer the guard let through as it was: what ran inside is streamed, in order, before the tool's end."""
    events = retriever_events(adapter, "the office opens at nine")
    names = [e["event"] for e in events if e["event"] in ("on_tool_start", "on_retriever_start", "on_retriever_end",
                                                          "on_tool_end")]
    assert names == ["on_tool_start", "on_retriever_start", "on_retriever_end", "on_tool_end"]


def test_astream_events_keeps_back_a_custom_event_a_guarded_tool_dispatches() -> None:
    """A tool may dispatch its raw data as a custom event of its own run: it is what the tool read."""
    @tool
    async def read_page(url: str) -> str:
        """Read a page."""
        page = f"the key is {SECRET}"
        await adispatch_custom_event("page", {"text": page})
        return page

    (guarded,) = guard_tools([read_page], make_shield())

    async def collect() -> list[dict[str, Any]]:
        return [e async for e in guarded.astream_events(call("read_page", {"url": "x"}, "c1"), version="v2")]

    events = asyncio.run(collect())
    assert [e["data"]["output"].content for e in events if e["event"] == "on_tool_end"] == ["the key is [REDACTED]"]
    assert SECRET not in repr(events)


def asking_agent(adapter: str, ask_worker: Any) -> Any:
    """An agent that calls ``ask_worker`` once, then answers "done", guarded by ``adapter``."""
    model = ToolFake(responses=script([call("ask_worker", {"q": "key"}, "c1")], "done"))
    shield = make_shield()
    if adapter == "middleware":
        return create_agent(model, [ask_worker], middleware=[AIRSMiddleware(shield)], checkpointer=InMemorySaver())
    return create_agent(model, guard_tools([ask_worker], shield), checkpointer=InMemorySaver())


def worker_messages(adapter: str, said: str, use_async: bool) -> list[Any]:
    helper = GenericFakeChatModel(messages=iter([AIMessage(said)]))

    @tool
    def ask_worker(q: str) -> str:
        """Ask a worker agent."""
        return str(helper.invoke(q).content)

    graph = asking_agent(adapter, ask_worker)
    inputs = {"messages": [HumanMessage("hi")]}
    if not use_async:
        return [chunk for chunk, _meta in graph.stream(inputs, new_config(), stream_mode="messages")]

    async def collect() -> list[Any]:
        return [chunk async for chunk, _meta in graph.astream(inputs, new_config(), stream_mode="messages")]

    return asyncio.run(collect())


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_the_messages_stream_never_carries_a_worker_models_raw_answer(adapter: str, use_async: bool) -> None:
    """A tool that asks a model (a worker agent) answers with what the model says: ``stream_mode="messages"``
    streamed the model's tokens, the secret with them, while the tool's answer was redacted."""
    chunks = worker_messages(adapter, f"the key is {SECRET}", use_async)
    assert "the key is [REDACTED]" in str([c.content for c in chunks])
    assert SECRET not in repr(chunks)


@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_the_messages_stream_carries_a_worker_models_answer_that_passed(adapter: str) -> None:
    chunks = worker_messages(adapter, "the office opens at nine", use_async=False)
    assert any(type(c).__name__ == "AIMessageChunk" and "nine" in str(c.content) for c in chunks)


def worker_steps(adapter: str, said: str, use_async: bool) -> list[Any]:
    @tool
    def ask_worker(q: str) -> str:
        """Ask a worker agent."""
        worker = create_agent(GenericFakeChatModel(messages=iter([AIMessage(said)])), [])
        return str(worker.invoke({"messages": [HumanMessage(q)]})["messages"][-1].content)

    graph = asking_agent(adapter, ask_worker)
    inputs = {"messages": [HumanMessage("hi")]}
    if not use_async:
        return list(graph.stream(inputs, new_config(), stream_mode=["updates", "values"], subgraphs=True))

    async def collect() -> list[Any]:
        return [part async for part in graph.astream(inputs, new_config(), stream_mode=["updates", "values"],
                                                     subgraphs=True)]

    return asyncio.run(collect())


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_subgraph_streaming_never_carries_a_worker_agents_raw_answer(adapter: str, use_async: bool) -> None:
    """``subgraphs=True`` hands a graph run inside a tool (a worker agent) the parent's stream, which it writes
    its steps to as they happen: the worker's answer, the secret in it, while the tool's answer was redacted."""
    parts = worker_steps(adapter, f"the key is {SECRET}", use_async)
    assert "the key is [REDACTED]" in repr(parts)
    assert SECRET not in repr(parts)


@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_subgraph_streaming_carries_the_steps_of_a_worker_whose_answer_passed(adapter: str) -> None:
    parts = worker_steps(adapter, "the office opens at nine", use_async=False)
    assert any(namespace and "nine" in repr(chunk) for namespace, _mode, chunk in parts)
