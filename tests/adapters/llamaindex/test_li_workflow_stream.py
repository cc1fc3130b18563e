"""What ``AIRSWorkflow`` forwards from its agent's stream carries nothing the guards have not let through.

Before, three of the forwarded events carried the model's words past the guards: a ``return_direct`` tool's
result (the answer, streamed before the output guard blocked it), a call's ``ToolCall`` / ``ToolCallResult``
(the arguments of a call the guard refused for carrying a secret) and ``AgentInput`` (the agent's system prompt
and every earlier turn, a blocked answer of an earlier run included)."""

from __future__ import annotations

from typing import Any

import pytest
from _li_support import KINDS, POLICY, make_agent
from llama_index.core.agent.workflow import FunctionAgent, ToolCall, ToolCallResult
from llama_index.core.tools import FunctionTool

from airs_plugins import Action, Channel, Shield
from airs_plugins.llamaindex import AIRSWorkflow, ApprovalRequired, ApprovalResponse, guard_tools
from airs_plugins.llamaindex.testing import answer, call, scripted_llm
from contract.rules import RuleCheck, rule

SECRET = "ZX-SECRET-ARG"
HIDE = "ZX-ANSWER-BLOCK"
PROMPT = "You are the records bot. ZX-SYSTEM-PROMPT: never say this."


def shield_for(*rules: Any) -> Shield:
    policy = {**POLICY, "tools": {**POLICY["tools"], "note": {"side_effect": "read"},
                                  "fetch_record": {"side_effect": "read"}}}
    return Shield.from_policy(policy, checks=[RuleCheck(*rules)])


async def streamed(flow: AIRSWorkflow, reviewer: Any = None, **run: Any) -> tuple[Any, list[Any]]:
    handler = flow.run(user_msg="go", **run)
    events: list[Any] = []
    async for ev in handler.stream_events():
        events.append(ev)
        if isinstance(ev, ApprovalRequired):
            handler.ctx.send_event(reviewer(ev))
    return await handler, events


class Noted:
    def __init__(self) -> None:
        self.notes: list[str] = []

    def tools(self) -> list[Any]:
        async def note(text: str) -> str:
            """Write a note."""
            self.notes.append(text)
            return "noted"

        return [note]


def leaked(events: list[Any], text: str) -> list[str]:
    return [type(ev).__name__ for ev in events if text in repr(ev)]


async def test_a_bound_parameter_the_model_wrote_is_not_streamed_as_used() -> None:
    """The model wrote a value for a parameter the application binds; the call ran without it (the bound value
    won), so the tool events show the arguments it ran with, not the model's value nor a withheld placeholder."""
    def orders(user_id: str, limit: int = 5) -> str:
        """The signed-in user's newest orders."""
        return f"{limit} orders of {user_id}"

    shield = shield_for(rule(SECRET, Channel.TOOL_CALL, Action.BLOCK))
    tool = FunctionTool.from_defaults(orders, partial_params={"user_id": "alice"})
    agent = make_agent("function", guard_tools([tool], shield), [call("orders", user_id="mallory", limit=2),
                                                                 answer("done")])
    _, events = await streamed(AIRSWorkflow(agent, shield))
    assert [ev.tool_kwargs for ev in events if isinstance(ev, ToolCall | ToolCallResult)] == [{"limit": 2}] * 2
    assert [str(ev.tool_output.content) for ev in events if isinstance(ev, ToolCallResult)] == ["2 orders of alice"]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_refused_calls_arguments_are_not_streamed(kind: str) -> None:
    """The guard refuses the call for what its arguments carry; its tool events still show (paired, once) with
    the arguments withheld."""
    noted = Noted()
    shield = shield_for(rule(SECRET, Channel.TOOL_CALL, Action.BLOCK))
    agent = make_agent(kind, guard_tools(noted.tools(), shield),
                       [call("note", text=f"the key is {SECRET}"), answer("I cannot do that.")])
    result, events = await streamed(AIRSWorkflow(agent, shield))
    assert noted.notes == []
    assert str(result) == "I cannot do that."
    assert leaked(events, SECRET) == []
    calls = [ev for ev in events if isinstance(ev, ToolCall) and ev.tool_name == "note"]
    results = [ev for ev in events if isinstance(ev, ToolCallResult) and ev.tool_name == "note"]
    assert [c.tool_kwargs for c in calls] == [r.tool_kwargs for r in results] == [{"text": "[withheld by AIRS]"}]
    assert results[0].tool_output.is_error
    assert results[0].tool_output.raw_input == {"args": (), "kwargs": {"text": "[withheld by AIRS]"}}


async def test_an_edited_call_streams_the_arguments_it_ran_with() -> None:
    """A reviewer's edit is what ran, so it is what the tool events show (the request showed the model's)."""
    noted = Noted()
    shield = shield_for(rule(SECRET, Channel.TOOL_CALL, Action.REQUIRE_APPROVAL))
    agent = make_agent("function", guard_tools(noted.tools(), shield),
                       [call("note", text=f"the key is {SECRET}"), answer("done")])
    _, events = await streamed(AIRSWorkflow(agent, shield),
                               lambda ev: ApprovalResponse.edit(ev, {"text": "the key is elsewhere"}))
    assert noted.notes == ["the key is elsewhere"]
    assert [ev.tool_kwargs for ev in events if isinstance(ev, ToolCall | ToolCallResult)] == \
        [{"text": "the key is elsewhere"}] * 2
    assert leaked(events, SECRET) == ["ApprovalRequired"]  # the reviewer's evidence


async def test_an_unknown_tools_arguments_are_not_streamed() -> None:
    """No guard decided on a call to a tool the agent does not have: its arguments are withheld too."""
    shield = shield_for(rule(SECRET, Channel.TOOL_CALL, Action.BLOCK))
    agent = make_agent("function", guard_tools(Noted().tools(), shield),
                       [call("post", text=f"the key is {SECRET}"), answer("done")])
    _, events = await streamed(AIRSWorkflow(agent, shield))
    assert leaked(events, SECRET) == []
    assert [ev.tool_kwargs for ev in events if isinstance(ev, ToolCallResult)] == [{"text": "[withheld by AIRS]"}]


async def test_an_allowed_calls_events_pass_through() -> None:
    noted = Noted()
    shield = shield_for(rule(SECRET, Channel.TOOL_CALL, Action.BLOCK))
    agent = make_agent("function", guard_tools(noted.tools(), shield), [call("note", text="hello"), answer("done")])
    _, events = await streamed(AIRSWorkflow(agent, shield))
    tool_events = [ev for ev in events if isinstance(ev, ToolCall | ToolCallResult)]
    assert [(type(ev).__name__, ev.tool_kwargs) for ev in tool_events] == [
        ("ToolCall", {"text": "hello"}), ("ToolCallResult", {"text": "hello"})]
    assert str(tool_events[1].tool_output.content) == "noted"
    assert tool_events[1].tool_output.raw_input == {"args": (), "kwargs": {"text": "hello"}}


@pytest.mark.parametrize("kind", KINDS)
async def test_a_direct_answer_is_not_streamed_before_the_output_guard(kind: str) -> None:
    """A ``return_direct`` tool's result is the answer; the output guard blocks it, and it is not on the stream."""
    def fetch_record(name: str) -> str:
        """Fetch a customer record."""
        return f"Alice: {HIDE} card on file"

    shield = shield_for(rule(HIDE, Channel.MODEL_OUTPUT, Action.BLOCK))
    agent = make_agent(kind, guard_tools([FunctionTool.from_defaults(fetch_record, return_direct=True)], shield),
                       [call("fetch_record", name="alice"), answer("x")])
    result, events = await streamed(AIRSWorkflow(agent, shield))
    assert not result.allowed and HIDE not in str(result)
    assert leaked(events, HIDE) == []
    shown = [(type(ev).__name__, ev.tool_kwargs) for ev in events
             if isinstance(ev, ToolCall | ToolCallResult) and ev.tool_name == "fetch_record"]
    assert shown == [("ToolCall", {"name": "alice"})]


async def test_the_agents_input_is_not_streamed() -> None:
    """The agent's input holds its system prompt and the conversation, a blocked answer of an earlier run on the
    same context included; neither reaches the stream."""
    shield = shield_for(rule(HIDE, Channel.MODEL_OUTPUT, Action.BLOCK))
    agent = FunctionAgent(tools=guard_tools(Noted().tools(), shield), system_prompt=PROMPT,
                          llm=scripted_llm([answer(f"sure: {HIDE}"), call("note", text="hi"), answer("done")]))
    flow = AIRSWorkflow(agent, shield)
    first = flow.run(user_msg="go")
    events = [ev async for ev in first.stream_events()]
    assert not (await first).allowed
    second = flow.run(user_msg="again", ctx=first.ctx)
    events += [ev async for ev in second.stream_events()]
    assert str(await second) == "done"
    assert leaked(events, "ZX-SYSTEM-PROMPT") == []
    assert leaked(events, HIDE) == []


async def test_no_arguments_are_kept_for_a_stream_nobody_guards() -> None:
    """Every guarded call kept the arguments it ran with (up to 256 calls per context) for AIRSWorkflow to show,
    also in a plain agent run, where nobody takes them: a context reused across a session held the mail bodies
    and file contents of its last 256 calls. Only AIRSWorkflow's own forwarding keeps them, until it shows them."""
    from llama_index.core.workflow import Context

    from airs_plugins.llamaindex import _state

    noted = Noted()
    shield = shield_for(rule(SECRET, Channel.TOOL_CALL, Action.BLOCK))
    agent = make_agent("function", guard_tools(noted.tools(), shield),
                       [call("note", text="a long mail body"), answer("done")])
    earlier = [store for store, kept in _state._SHOWN.items() if kept]  # other tests' runs, still alive
    handler = agent.run(user_msg="go", ctx=Context(agent))
    async for _ev in handler.stream_events():
        pass
    await handler
    assert noted.notes == ["a long mail body"]
    assert [kept for store, kept in _state._SHOWN.items() if kept and not any(store is e for e in earlier)] == []
