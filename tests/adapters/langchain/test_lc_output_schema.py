"""A policy ``output_schema`` describes the agent's *answer*.

Before, ``AIRSMiddleware`` and ``AIRSCallbackHandler`` held every model message to it: a turn that says
"Let me look that up." next to its tool calls was withdrawn, calls and all, so an agent under a schema
policy could not use a tool; and a ``response_format`` answer that came with any text was withheld,
because the text and the JSON together are not JSON. Now the text that comes with tool calls is not held
to the schema (the other output checks still read it), and a structured answer is matched as data."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ToolStrategy
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel

from airs_plugins import Blocked, Shield
from airs_plugins.langchain import AIRSCallbackHandler, AIRSMiddleware
from airs_plugins.langchain._middleware import OUTPUT_REFUSAL
from contract.harness import FORBIDDEN, Executions, MarkerCheck, ToolFake, assert_paired, call, new_config

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "temp": {"type": "integer"}},
          "required": ["city"]}


class Weather(BaseModel):
    city: str
    temp: int = 0


def shield() -> Shield:
    return Shield.from_policy({"output_schema": SCHEMA,
                               "checks": [{"id": "output.schema"}, {"id": "tool.policy"}],
                               "tools": {"lookup": {"side_effect": "read"}}}, checks=[MarkerCheck()])


def agent(responses: list[AIMessage], **kwargs: Any) -> tuple[Any, Executions]:
    ex = Executions()
    graph = create_agent(ToolFake(responses=responses), ex.tools(), middleware=[AIRSMiddleware(shield())],
                         checkpointer=InMemorySaver(), **kwargs)
    return graph, ex


def invoke(graph: Any, use_async: bool) -> Any:
    payload, config = {"messages": [HumanMessage("weather in Oslo?")]}, new_config()
    return asyncio.run(graph.ainvoke(payload, config)) if use_async else graph.invoke(payload, config)


def narrated_lookup() -> AIMessage:
    return AIMessage("Let me look that up.", tool_calls=[call("lookup", {"q": "oslo"}, "c1")], id="ai-0")


@pytest.mark.parametrize("use_async", [False, True])
def test_text_next_to_tool_calls_is_not_held_to_the_schema(use_async: bool) -> None:
    graph, ex = agent([narrated_lookup(), AIMessage('{"city": "Oslo", "temp": 3}', id="ai-1")])
    out = invoke(graph, use_async)
    assert ex.of("lookup") == [{"q": "oslo"}]
    assert out["messages"][1].content == "Let me look that up."
    assert out["messages"][-1].content == '{"city": "Oslo", "temp": 3}'
    assert_paired(out["messages"])


@pytest.mark.parametrize("use_async", [False, True])
def test_the_answer_is_still_held_to_the_schema(use_async: bool) -> None:
    graph, ex = agent([narrated_lookup(), AIMessage("It is 3 degrees in Oslo.", id="ai-1")])
    out = invoke(graph, use_async)
    assert ex.of("lookup") == [{"q": "oslo"}]
    assert out["messages"][-1].content == OUTPUT_REFUSAL


def test_other_output_checks_still_read_text_next_to_tool_calls() -> None:
    said = AIMessage(f"Sure, {FORBIDDEN}", tool_calls=[call("lookup", {"q": "oslo"}, "c1")], id="ai-0")
    graph, ex = agent([said, AIMessage('{"city": "Oslo"}', id="ai-1")])
    out = invoke(graph, False)
    assert ex.of("lookup") == []
    assert out["messages"][-1].content == OUTPUT_REFUSAL


def structured(text: str, **args: Any) -> AIMessage:
    return AIMessage(text, tool_calls=[call("Weather", {"city": "Oslo", **args}, "s1")], id="ai-1")


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("text", ["", "Here you go."])
def test_a_structured_answer_is_matched_as_data(text: str, use_async: bool) -> None:
    graph, _ex = agent([narrated_lookup(), structured(text, temp=3)], response_format=ToolStrategy(Weather))
    out = invoke(graph, use_async)
    assert out["structured_response"] == Weather(city="Oslo", temp=3)
    assert_paired(out["messages"])


def test_a_structured_answer_off_the_policy_schema_is_withdrawn() -> None:
    """The policy's schema can be stricter than ``response_format``: here it wants ``temp`` an integer, the
    format a string, and the answer's data decides."""

    class Loose(BaseModel):
        city: str
        temp: str

    answer = AIMessage("Here you go.", tool_calls=[call("Loose", {"city": "Oslo", "temp": "cold"}, "s1")], id="ai-1")
    graph, _ex = agent([narrated_lookup(), answer], response_format=ToolStrategy(Loose))
    out = invoke(graph, False)
    assert out.get("structured_response") is None
    assert out["messages"][-1].content == OUTPUT_REFUSAL


def callback_chain(answer: AIMessage) -> Any:
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    return prompt | ToolFake(responses=[answer]) | StrOutputParser()


def test_the_callback_handler_lets_a_tool_calling_turn_through() -> None:
    handler = AIRSCallbackHandler(shield())
    assert callback_chain(narrated_lookup()).invoke({"question": "q"}, config={"callbacks": [handler]}) \
        == "Let me look that up."


def test_the_callback_handler_still_holds_the_answer_to_the_schema() -> None:
    handler = AIRSCallbackHandler(shield())
    with pytest.raises(Blocked) as info:
        callback_chain(AIMessage("It is 3 degrees.")).invoke({"question": "q"}, config={"callbacks": [handler]})
    assert "not valid JSON" in info.value.decision.reason


def test_a_structured_answer_next_to_a_tool_call_is_still_matched() -> None:
    """``create_agent`` ends the run with a structured answer even when the model called a tool with it: that
    answer is the answer, schema and all."""

    class Loose(BaseModel):
        city: str
        temp: str

    said = AIMessage("Here.", id="ai-0", tool_calls=[call("lookup", {"q": "oslo"}, "c1"),
                                                    call("Loose", {"city": "Oslo", "temp": "cold"}, "s1")])
    graph, ex = agent([said, AIMessage("unused", id="ai-1")], response_format=ToolStrategy(Loose))
    out = invoke(graph, False)
    assert out.get("structured_response") is None
    assert ex.log == []
