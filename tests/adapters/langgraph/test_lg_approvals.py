"""The approval node on a hand-built graph: each answer is resolved when it is read, so a reviewer who answered
in time is never denied because another call's reviewer answered later."""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from airs_plugins import Shield
from contract.harness import POLICY, Executions, ToolFake, assert_paired, build, call, make_shield, new_config, script

SLA_S = 1.5


def two_gated_calls(sla_s: float, calls: list[dict[str, Any]] | None = None) -> tuple[Any, Executions, Shield]:
    """A secured graph whose model asks for an e-mail (HIGH, review SLA ``sla_s``) and a transfer (MEDIUM, a day),
    or makes ``calls``."""
    policy = copy.deepcopy(POLICY)
    policy["tiers"] = {"HIGH": {"review_sla_s": sla_s}}
    ex = Executions()
    model = ToolFake(responses=script(calls or [call("send_email", {"to": "bob@example.com", "body": "hi"}, "c1"),
                                                call("transfer", {"amount": 5, "to": "acct-1"}, "c2")], "done"))
    shield = make_shield(policy=policy)
    return build("nodes", shield, model, ex, InMemorySaver()), ex, shield


def test_an_approval_given_in_time_stands_while_another_call_waits() -> None:
    """The e-mail is approved well within its deadline; the transfer's reviewer answers after that deadline.
    Before, the node resolved every answer only once all were in, judged the e-mail's deadline then, and denied
    the e-mail as expired although it was approved in time."""
    graph, ex, _shield = two_gated_calls(SLA_S)
    config = new_config()
    (first,) = graph.invoke({"messages": [HumanMessage("go")]}, config)["__interrupt__"]
    assert first.value["tool_name"] == "send_email"
    (second,) = graph.invoke(Command(resume={first.id: {"type": "approve", "reviewer": "ann"}}),
                             config)["__interrupt__"]
    assert second.value["tool_name"] == "transfer"
    time.sleep(SLA_S + 0.1)
    out = graph.invoke(Command(resume={second.id: {"type": "approve", "reviewer": "bob"}}), config)
    assert ex.of("send_email") == [{"to": "bob@example.com", "body": "hi"}]
    assert ex.of("transfer") == [{"amount": 5, "to": "acct-1"}]
    answers = assert_paired(out["messages"])
    assert answers["c1"].status == "success" and answers["c2"].status == "success"


async def test_an_approval_given_in_time_stands_under_ainvoke() -> None:
    """The same under ``ainvoke``, where the node awaits ``aresolve_approval``."""
    graph, ex, _shield = two_gated_calls(SLA_S)
    config = new_config()
    (first,) = (await graph.ainvoke({"messages": [HumanMessage("go")]}, config))["__interrupt__"]
    (second,) = (await graph.ainvoke(Command(resume={first.id: {"type": "approve", "reviewer": "ann"}}),
                                     config))["__interrupt__"]
    await asyncio.sleep(SLA_S + 0.1)
    await graph.ainvoke(Command(resume={second.id: {"type": "approve", "reviewer": "bob"}}), config)
    # both ran once; the two calls run concurrently, so their order is asyncio's (it differs on Python 3.13)
    assert ex.of("send_email") == [{"to": "bob@example.com", "body": "hi"}]
    assert ex.of("transfer") == [{"amount": 5, "to": "acct-1"}]


def test_an_approval_given_late_is_still_denied() -> None:
    """The other half: an e-mail approved after its deadline stays denied (never auto-approved)."""
    graph, ex, _shield = two_gated_calls(SLA_S)
    config = new_config()
    (first,) = graph.invoke({"messages": [HumanMessage("go")]}, config)["__interrupt__"]
    time.sleep(SLA_S + 0.1)
    (second,) = graph.invoke(Command(resume={first.id: {"type": "approve", "reviewer": "ann"}}),
                             config)["__interrupt__"]
    out = graph.invoke(Command(resume={second.id: {"type": "approve", "reviewer": "bob"}}), config)
    assert ex.of("send_email") == []
    assert ex.of("transfer") == [{"amount": 5, "to": "acct-1"}]
    assert "expired" in assert_paired(out["messages"])["c1"].content


def test_each_answer_is_audited_once() -> None:
    """Resolved when it is read, an answer is kept: the node's re-run for the next answer takes it, and audits
    no second approval."""
    graph, ex, shield = two_gated_calls(3600)
    config = new_config()
    (first,) = graph.invoke({"messages": [HumanMessage("go")]}, config)["__interrupt__"]
    (second,) = graph.invoke(Command(resume={first.id: {"type": "approve", "reviewer": "ann"}}),
                             config)["__interrupt__"]
    graph.invoke(Command(resume={second.id: {"type": "reject", "reviewer": "bob"}}), config)
    approvals = [r.body for r in shield.recorder.records() if r.kind == "approval"]
    assert sorted(a["action"] for a in approvals) == ["allow", "block"]
    assert ex.log == [("send_email", {"to": "bob@example.com", "body": "hi"})]


@pytest.mark.parametrize(("first", "then"), [("approve", "reject"), ("reject", "approve")])
def test_a_run_forked_before_the_question_takes_the_new_answer(first: str, then: str) -> None:
    """Forked from the checkpoint before the approval node, the run asks again, and that answer counts: kept for
    the node's re-runs, the first answer must not overrule it (an approved e-mail sent again after a reject)."""
    graph, ex, _shield = two_gated_calls(3600, [call("send_email", {"to": "bob@example.com", "body": "hi"}, "c1")])
    config = new_config()
    graph.invoke({"messages": [HumanMessage("go")]}, config)
    graph.invoke(Command(resume={"type": first, "reviewer": "ann"}), config)
    before = next(s for s in graph.get_state_history(config) if s.next == ("airs_approval",))
    (asked,) = graph.invoke(None, before.config)["__interrupt__"]
    assert asked.value["tool_name"] == "send_email"
    out = graph.invoke(Command(resume={"type": then, "reviewer": "bob"}), config)
    assert len(ex.of("send_email")) == [first, then].count("approve")
    answer = assert_paired(out["messages"])["c1"]
    assert (answer.status == "success") is (then == "approve")
