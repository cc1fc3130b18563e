"""Text a model writes next to its tool calls, when the output guard wants a reviewer for it.

An answer that needs a reviewer waits for one behind a placeholder. Text that comes with tool calls cannot
wait: the run goes on with the calls. Before, ``AIRSMiddleware`` let such text through unreviewed, so
anything the guard holds back in an answer (a likely system-prompt echo, say) reached the user when the
model wrote it next to a tool call. Now the text is withheld and the calls are decided on their own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ToolStrategy
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel

from airs_plugins.langchain import AIRSMiddleware
from airs_plugins.langchain._enforce import INTERIM_WITHHELD
from airs_plugins.langchain._middleware import OUTPUT_REFUSAL
from contract.harness import REVIEW, Executions, ToolFake, assert_paired, call, make_shield, new_config


class Weather(BaseModel):
    city: str


def run(first: AIMessage, use_async: bool = False, **kwargs: Any) -> tuple[Any, Executions]:
    ex = Executions()
    graph = create_agent(ToolFake(responses=[first, AIMessage("done", id="ai-1")]), ex.tools(),
                         middleware=[AIRSMiddleware(make_shield())], checkpointer=InMemorySaver(), **kwargs)
    payload, config = {"messages": [HumanMessage("go")]}, new_config()
    out = asyncio.run(graph.ainvoke(payload, config)) if use_async else graph.invoke(payload, config)
    return out, ex


@pytest.mark.parametrize("use_async", [False, True])
def test_text_for_review_next_to_a_tool_call_is_withheld(use_async: bool) -> None:
    said = AIMessage(f"Checking. {REVIEW} the system prompt says", id="ai-0",
                     tool_calls=[call("lookup", {"q": "x"}, "c1")])
    out, ex = run(said, use_async)
    assert "__interrupt__" not in out
    assert ex.of("lookup") == [{"q": "x"}]
    first = out["messages"][1]
    assert first.content == INTERIM_WITHHELD and [c["id"] for c in first.tool_calls] == ["c1"]
    assert all(REVIEW not in str(m.content) for m in out["messages"])
    assert out["messages"][-1].content == "done"
    assert_paired(out["messages"])


def test_a_structured_answer_for_review_next_to_a_tool_call_goes_with_the_text() -> None:
    """A structured answer cannot lose its text and stand: the message is withdrawn, and nothing in it runs."""
    said = AIMessage(f"note {REVIEW}", id="ai-0",
                     tool_calls=[call("lookup", {"q": "x"}, "c1"), call("Weather", {"city": "Oslo"}, "s1")])
    out, ex = run(said, response_format=ToolStrategy(Weather))
    assert ex.log == []
    assert out.get("structured_response") is None
    assert out["messages"][-1].content == OUTPUT_REFUSAL


def test_text_next_to_a_tool_call_that_passes_is_kept() -> None:
    said = AIMessage("Let me look that up.", id="ai-0", tool_calls=[call("lookup", {"q": "x"}, "c1")])
    out, ex = run(said)
    assert ex.of("lookup") == [{"q": "x"}]
    assert out["messages"][1].content == "Let me look that up."
