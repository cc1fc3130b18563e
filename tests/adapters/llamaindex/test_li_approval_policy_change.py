"""An answer or a tool's result held for a reviewer, saved, restored under a changed policy and approved:
released as the policy in force says (a block stands, a redaction is applied). Before, the approval released
what the old policy held."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from _li_support import make_agent
from llama_index.core.agent.workflow import FunctionAgent

from airs_plugins import Shield
from airs_plugins.llamaindex import (
    AIRSWorkflow,
    ApprovalRequired,
    ApprovalResponse,
    guard_tools,
    load_context,
    pending_approvals,
    save_context,
)
from airs_plugins.llamaindex.testing import answer, call, scripted_llm

KEY = "policy-change-key-0123456789abcdef"
TERM = "Project Falcon"
EMAIL = "ann.lee@corp.example"
TEXT = f"{TERM}: write to {EMAIL}"


def shield(banned: str = "require_approval", *, pii: bool = False, ledger: Path | None = None) -> Shield:
    checks: list[dict[str, Any]] = [
        {"id": "limit.size"}, {"id": "tool.policy"},
        {"id": "output.banned", "action": banned, "channels": ["model_output", "tool_result"]}]
    if pii:
        checks.append({"id": "pii.detect", "action": "redact",
                       "options": {"kinds": ["email"], "redact_channels": ["model_output", "tool_result"]}})
    return Shield.from_policy({"checks": checks, "banned_terms": [TERM],
                               "tools": {"read_page": {"side_effect": "read"}}}, ledger=ledger)


def read_page(url: str) -> str:
    """Read a web page."""
    return TEXT


async def paused(workflow: AIRSWorkflow) -> tuple[ApprovalRequired, str]:
    handler = workflow.run(user_msg="go")
    async for ev in handler.stream_events():
        if isinstance(ev, ApprovalRequired):
            break
    blob = save_context(handler, key=KEY)
    await handler.cancel_run()
    return ev, blob


AFTER = [("same", TEXT), ("redact", None), ("block", "refused")]


def after_policy(kind: str, ledger: Path | None = None) -> Shield:
    """The policy in force after the restart (with the ledger the first process kept the held result in)."""
    return {"same": shield(ledger=ledger), "redact": shield(pii=True, ledger=ledger),
            "block": shield("block", ledger=ledger)}[kind]


@pytest.mark.parametrize(("after", "expected"), AFTER)
async def test_a_held_answer_is_released_under_the_policy_in_force(after: str, expected: str | None) -> None:
    asked, blob = await paused(AIRSWorkflow(make_agent("function", [], [answer(TEXT)]), shield()))
    assert asked.request["channel"] == "model_output"
    second = AIRSWorkflow(make_agent("function", [], [answer(TEXT)]), after_policy(after))
    ctx = load_context(second, blob, key=KEY)
    (pending,) = await pending_approvals(ctx)
    resumed = second.run(ctx=ctx)
    resumed.ctx.send_event(ApprovalResponse.approve(pending, reviewer="alice"))
    result = await asyncio.wait_for(resumed, 20)
    if expected == "refused":
        assert not result.allowed and EMAIL not in str(result) and "changed since the request" in str(result)
    elif expected is None:
        assert result.allowed and EMAIL not in str(result) and str(result).startswith(TERM)
    else:
        assert (result.allowed, str(result)) == (True, expected)


def recording_agent(tools: list[Any], seen: list[str]) -> FunctionAgent:
    """A function agent playing one call of ``read_page`` then "done", keeping every prompt it was given."""
    llm = scripted_llm([call("read_page", url="https://example.com"), answer("done")])
    play = llm.response_generator

    def respond(messages: Any, **kw: Any) -> Any:
        seen.extend(str(m.content) for m in messages)
        return play(messages, **kw)

    llm.response_generator = respond
    return FunctionAgent(tools=tools, llm=llm)


@pytest.mark.parametrize(("after", "expected"), AFTER)
async def test_a_held_result_is_released_under_the_policy_in_force(after: str, expected: str | None,
                                                                   tmp_path: Path) -> None:
    """What the model reads of the result after the approval (the stream's events of a restored run show the
    call without its result)."""
    first, seen = shield(ledger=tmp_path / "ledger.sqlite"), []
    asked, blob = await paused(AIRSWorkflow(recording_agent(guard_tools([read_page], first), seen), first))
    assert asked.request["channel"] == "tool_result"
    now, seen = after_policy(after, tmp_path / "ledger.sqlite"), []
    second = AIRSWorkflow(recording_agent(guard_tools([read_page], now), seen), now)
    resumed = second.run(ctx=load_context(second, blob, key=KEY))
    resumed.ctx.send_event(ApprovalResponse.approve(asked, reviewer="alice"))
    assert str(await asyncio.wait_for(resumed, 20)) == "done"
    if expected == "refused":
        assert EMAIL not in str(seen) and "changed since the request" in str(seen)
    elif expected is None:
        assert EMAIL not in str(seen) and any(t.startswith(TERM) for t in seen)
    else:
        assert expected in seen
