"""A long chat thread under ``AIRSMiddleware``: the loop cap counts identical calls within one user request, not
over the thread's life (the fourth request for the weather in Paris was refused as a loop)."""

from __future__ import annotations

from langchain.agents import create_agent
from langchain_core.messages import ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from airs_plugins import Shield
from airs_plugins.langchain import AIRSMiddleware
from contract.harness import ToolFake, call, new_config, script


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def test_the_same_question_on_later_turns_of_a_thread_runs_its_call() -> None:
    requests = 4
    turns = [t for i in range(requests) for t in ([call("get_weather", {"city": "Paris"}, f"c{i}")], "Sunny.")]
    shield = Shield.from_policy({"caps": {"identical_calls": 3}})
    agent = create_agent(ToolFake(responses=script(*turns)), [get_weather], middleware=[AIRSMiddleware(shield)],
                         checkpointer=InMemorySaver())
    config = new_config("weather")
    for _ in range(requests):
        out = agent.invoke({"messages": [{"role": "user", "content": "Weather in Paris?"}]}, config)
    results = [m.content for m in out["messages"] if isinstance(m, ToolMessage)]
    assert results == ["sunny"] * requests
