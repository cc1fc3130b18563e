"""The reviewer's answer to a gated call is read once, and any answer a reviewer gives is read as one.

LangGraph re-runs a paused task from its start on every resume of it, and ``interrupt()`` hands each
re-run the answers it got before. A task can pause more than once: for the call's approval, then for the
review of its result, or for a question the tool itself asks. Before, every re-run resolved the call's
approval again: a second approval record in the audit, and its deadline judged anew, so that a call
approved in time was denied as expired, and one that had already run was reported as "not executed".
A reviewer's UI that resumes with JSON null was told that "no human could be asked"; null is an answer
that cannot be read, and gets the reason every such answer gets."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import BaseTool, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command, interrupt

from airs_plugins import Action, Channel, Shield
from contract.harness import POLICY, MarkerCheck, ToolFake, assert_paired, build, call, new_config, script
from contract.rules import RuleCheck, rule

SLA_S = 2.0
"""The reviewers' deadline in these tests; answers meant to be late come after it (long enough that a loaded CI
machine answers the others in time)."""
CHECK_ME = "ZX-RESULT-REVIEW"
"""A tool result carrying this needs a reviewer before the model reads it."""
ADAPTERS = ("middleware", "tools")
"""The adapters that ask inside the tool's task (``secure_graph`` asks in its own approval node)."""


def shield() -> Shield:
    policy = {**POLICY, "tools": {**POLICY["tools"], "transfer": {"side_effect": "irreversible",
                                                                   "require_approval": True, "risk_tier": "HIGH"}},
              "tiers": {"HIGH": {"review_sla_s": SLA_S}}}
    review = RuleCheck(rule(CHECK_ME, Channel.TOOL_RESULT, Action.REQUIRE_APPROVAL), check_id="test.review")
    return Shield.from_policy(policy, checks=[MarkerCheck(), review])


class Payments:
    """``transfer`` asks the user for a memo itself (``interrupt()``) when ``ask_memo``, and returns
    ``result`` (which may need a review)."""

    def __init__(self, *, ask_memo: bool, result: str = "moved") -> None:
        self.ask_memo, self.result = ask_memo, result
        self.log: list[tuple[str, dict[str, Any]]] = []

    def tools(self) -> list[BaseTool]:
        owner = self

        @tool
        def transfer(amount: int, to: str) -> str:
            """Move money."""
            memo = interrupt({"ask_user": "memo?"}) if owner.ask_memo else ""
            owner.log.append(("transfer", {"amount": amount, "to": to, "memo": memo}))
            return f"{owner.result} {amount} {memo}".strip()

        return [transfer]


PAY = [call("transfer", {"amount": 5, "to": "acct-1"}, "c1")]


def approvals(sh: Shield) -> list[tuple[str, str]]:
    return [(r.body["request_id"], r.body["action"]) for r in sh.recorder.records() if r.kind == "approval"]


def start(adapter: str, payments: Payments) -> tuple[Any, Shield, dict[str, Any], Any]:
    sh = shield()
    graph = build(adapter, sh, ToolFake(responses=script(PAY, "done")), payments, InMemorySaver())  # type: ignore[arg-type]
    config = new_config()
    out = graph.invoke({"messages": [HumanMessage("pay")]}, config)
    (pending,) = out["__interrupt__"]
    return graph, sh, config, pending


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_approval_is_read_once_when_the_tool_asks_its_own_question(adapter: str) -> None:
    """Approved in time; the tool then asks the user, who answers after the approval's deadline: the call
    runs on its approval (one approval record), and is not denied as expired."""
    payments = Payments(ask_memo=True)
    graph, sh, config, pending = start(adapter, payments)
    assert pending.value["tool_name"] == "transfer"
    out = graph.invoke(Command(resume={"type": "approve", "reviewer": "ann"}), config)
    (question,) = out["__interrupt__"]
    assert question.value == {"ask_user": "memo?"}
    time.sleep(SLA_S + 0.2)
    out = graph.invoke(Command(resume="rent"), config)
    assert payments.log == [("transfer", {"amount": 5, "to": "acct-1", "memo": "rent"})]
    assert assert_paired(out["messages"])["c1"].content == "moved 5 rent"
    assert approvals(sh) == [(pending.value["id"], "allow")]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_call_that_ran_is_never_reported_as_not_executed(adapter: str) -> None:
    """The approved call runs and its result waits for a review. The review's answer re-runs the task: the
    call's approval is not read again (one record for it), the result is replayed and released."""
    payments = Payments(ask_memo=False, result=f"moved {CHECK_ME}")
    graph, sh, config, pending = start(adapter, payments)
    out = graph.invoke(Command(resume={"type": "approve", "reviewer": "ann"}), config)
    (review,) = out["__interrupt__"]
    assert review.value["channel"] == "tool_result"
    out = graph.invoke(Command(resume={"type": "approve", "reviewer": "bob"}), config)
    assert len(payments.log) == 1
    result = str(assert_paired(out["messages"])["c1"].content)
    assert result.startswith(f"moved {CHECK_ME}") and "not executed" not in result
    assert approvals(sh) == [(pending.value["id"], "allow"), (review.value["id"], "allow")]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_late_approval_is_still_denied_as_expired(adapter: str) -> None:
    """The deadline is judged when the answer is first read: reading it once does not excuse a late one."""
    payments = Payments(ask_memo=False)
    graph, sh, config, pending = start(adapter, payments)
    time.sleep(SLA_S + 0.2)
    out = graph.invoke(Command(resume={"type": "approve", "reviewer": "ann"}), config)
    assert payments.log == []
    message = assert_paired(out["messages"])["c1"]
    assert message.status == "error" and "expired" in str(message.content)
    assert approvals(sh) == [(pending.value["id"], "block")]


@pytest.mark.parametrize("answer", [None, 42])
@pytest.mark.parametrize("adapter", [*ADAPTERS, "nodes"])
def test_an_unreadable_answer_denies_and_says_what_a_valid_one_is(adapter: str, answer: Any) -> None:
    """JSON null included: a human was asked, and answered with something that is not a decision."""
    payments = Payments(ask_memo=False)
    graph, sh, config, pending = start(adapter, payments)
    out = graph.invoke(Command(resume={pending.id: answer}), config)
    assert payments.log == []
    message = assert_paired(out["messages"])["c1"]
    assert message.status == "error"
    assert "cannot read the reviewer's answer" in str(message.content)
    assert "no human could be asked" not in str(message.content)
    assert approvals(sh) == [(pending.value["id"], "block")]


@pytest.mark.parametrize("use_async", [False, True], ids=["invoke", "ainvoke"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_the_review_of_a_result_reads_its_own_answer(adapter: str, use_async: bool) -> None:
    """Ann approves the call, Bob rejects its result: the result is withheld. Before, the ``guard_tools``
    re-run replayed the call without its approval's ``interrupt()``, so the review got the answer meant for
    the call (Ann's approval) and the rejected result reached the model."""
    payments = Payments(ask_memo=False, result=f"moved {CHECK_ME}")
    graph, sh, config, pending = start(adapter, payments)

    def resume(answer: dict[str, Any]) -> Any:
        if use_async:
            return asyncio.run(graph.ainvoke(Command(resume=answer), config))
        return graph.invoke(Command(resume=answer), config)

    out = resume({"type": "approve", "reviewer": "ann"})
    (review,) = out["__interrupt__"]
    out = resume({"type": "reject", "reviewer": "bob"})
    assert len(payments.log) == 1
    result = str(assert_paired(out["messages"])["c1"].content)
    assert "withheld" in result and CHECK_ME not in result and "rejected by bob" in result
    assert [(r.body["request_id"], r.body["answers"][0]["reviewer"]) for r in sh.recorder.records()
            if r.kind == "approval"] == [(pending.value["id"], "ann"), (review.value["id"], "bob")]
