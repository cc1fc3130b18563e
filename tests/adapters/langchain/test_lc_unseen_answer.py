"""An answer the output guard never saw is guarded when the run ends.

``ModelRetryMiddleware`` (``on_failure="continue"``, its default) listed before ``AIRSMiddleware`` turns the
model's exception into the run's answer outside AIRS's model call: the exception's text (a provider's error may
quote the request, a key, the user's data) reached the user unchecked. So did an answer a hook listed before AIRS
ends the run with. ``after_agent`` guards the last answer when AIRS's model hook never marked it as read."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import AgentState, ModelRetryMiddleware, before_model
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage

from airs_plugins import Shield
from airs_plugins.langchain import AIRSMiddleware
from airs_plugins.langchain._enforce import OUTPUT_REFUSAL

KEY = "AKIAIOSFODNN7EXAMPLE"


class Failing(FakeMessagesListChatModel):
    """A model whose provider rejects every request with an error that quotes it."""

    error: str = f"provider rejected the request: key {KEY} is not allowed here"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Failing:
        return self

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(self.error)

    async def _agenerate(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(self.error)


def retry() -> ModelRetryMiddleware:
    return ModelRetryMiddleware(max_retries=1, initial_delay=0, jitter=False)


def last_answer(agent: Any, use_async: bool) -> str:
    payload = {"messages": [HumanMessage("hi")]}
    out = asyncio.run(agent.ainvoke(payload)) if use_async else agent.invoke(payload)
    return str(out["messages"][-1].content)


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("airs_first", [False, True])
def test_the_retry_middlewares_error_answer_is_guarded_in_either_order(airs_first: bool, use_async: bool) -> None:
    shield = Shield.default()
    middleware = [AIRSMiddleware(shield), retry()] if airs_first else [retry(), AIRSMiddleware(shield)]
    answer = last_answer(create_agent(Failing(responses=[]), [], middleware=middleware), use_async)
    assert KEY not in answer
    assert answer == OUTPUT_REFUSAL


def test_a_harmless_error_answer_passes_unchanged() -> None:
    shield = Shield.default()
    model = Failing(responses=[], error="the provider is overloaded, try again later")
    answer = last_answer(create_agent(model, [], middleware=[retry(), AIRSMiddleware(shield)]), False)
    assert answer.startswith("Model call failed after 2 attempts") and "overloaded" in answer


def test_an_answer_a_hook_ends_the_run_with_is_guarded() -> None:
    @before_model(can_jump_to=["end"])
    def canned(state: AgentState[Any], runtime: Any) -> dict[str, Any]:
        return {"messages": [AIMessage(f"Use the deploy key {KEY}.")], "jump_to": "end"}

    shield = Shield.default()
    answer = last_answer(create_agent(FakeMessagesListChatModel(responses=[AIMessage("unused")]), [],
                                      middleware=[canned, AIRSMiddleware(shield)]), False)
    assert answer == OUTPUT_REFUSAL


def test_the_models_own_answer_is_not_decided_twice() -> None:
    shield = Shield.default()
    model = FakeMessagesListChatModel(responses=[AIMessage("Paris.")])
    assert last_answer(create_agent(model, [], middleware=[AIRSMiddleware(shield)]), False) == "Paris."
    outputs = [r for r in shield.recorder.records() if r.kind == "decision" and r.body["channel"] == "model_output"]
    assert len(outputs) == 1


def test_with_the_output_guard_off_nothing_is_checked_at_the_end() -> None:
    shield = Shield.default()
    middleware = [retry(), AIRSMiddleware(shield, guard_output=False)]
    assert KEY in last_answer(create_agent(Failing(responses=[]), [], middleware=middleware), False)
