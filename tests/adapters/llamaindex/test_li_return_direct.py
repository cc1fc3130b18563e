"""A ``return_direct`` tool's result is the agent's answer: LlamaIndex returns it to the user without
the model. So a guarded one passes the output guard too: a block answers with the refusal, a redaction
rewrites the answer, one that needs a reviewer waits for one (approve shows it, reject withholds it, respond
shows the reviewer's message; the tool never runs again). Before, only the result guard saw it, and PII that
the output guard redacts in answers reached the user as it was."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _li_support import KINDS, POLICY, drive, make_agent
from llama_index.core.tools import FunctionTool

from airs_plugins import Action, Channel, Shield
from airs_plugins.llamaindex import ApprovalRequired, ApprovalResponse, guard_tools
from airs_plugins.llamaindex.testing import answer, call
from contract.rules import RuleCheck, rule

HIDE = "ZX-ANSWER-BLOCK"
MASK = "ZX-ANSWER-MASK"
REVIEW = "ZX-ANSWER-REVIEW"


def answer_only() -> RuleCheck:
    """Stops in answers what a tool result may carry to the model."""
    return RuleCheck(*(rule(m, Channel.MODEL_OUTPUT, a) for m, a in
                       ((HIDE, Action.BLOCK), (MASK, Action.REDACT), (REVIEW, Action.REQUIRE_APPROVAL))),
                     check_id="test.answer_only")


class Record:
    def __init__(self, text: str) -> None:
        self.text, self.runs = text, 0

    def tools(self, direct: bool) -> list[FunctionTool]:
        def fetch_record(name: str) -> str:
            """Fetch a customer record."""
            self.runs += 1
            return self.text

        return [FunctionTool.from_defaults(fetch_record, return_direct=direct)]


async def run(kind: str, text: str, *, direct: bool = True,
              reviewer: Callable[[ApprovalRequired], ApprovalResponse] | None = None) -> tuple[str, Record, Shield]:
    shield = Shield.from_policy(POLICY, checks=[answer_only()])
    record = Record(text)
    agent = make_agent(kind, guard_tools(record.tools(direct), shield),
                       [call("fetch_record", name="alice"), answer("the model's own answer")])
    out, asked = await drive(agent, "show me alice", reviewer)
    assert len(asked) == (1 if reviewer is not None else 0)
    return str(out.response.content), record, shield


@pytest.mark.parametrize("kind", KINDS)
async def test_blocked_direct_answer_is_refused(kind: str) -> None:
    shown, record, _shield = await run(kind, f"Alice: {HIDE} card on file")
    assert record.runs == 1
    assert HIDE not in shown and "stopped by AIRS" in shown


@pytest.mark.parametrize("kind", KINDS)
async def test_redacted_direct_answer_is_rewritten(kind: str) -> None:
    shown, record, shield = await run(kind, f"Alice: {MASK} on file")
    assert record.runs == 1
    assert shown == "Alice: [MASKED] on file"
    outputs = [r.body for r in shield.recorder.records() if r.kind == "decision" and r.body["channel"] == "model_output"]
    assert [o["action"] for o in outputs] == ["redact"]


REVIEWERS: dict[str, Callable[[ApprovalRequired], ApprovalResponse]] = {
    "approve": ApprovalResponse.approve,
    "reject": lambda ev: ApprovalResponse.reject(ev, reason="not for the user"),
    "respond": lambda ev: ApprovalResponse.answer(ev, {"type": "respond", "message": "Ask the records team."}),
}


@pytest.mark.parametrize("verdict", sorted(REVIEWERS))
@pytest.mark.parametrize("kind", KINDS)
async def test_direct_answer_needing_review_waits_for_a_reviewer(kind: str, verdict: str) -> None:
    """The tool has run; its result is the answer, and nobody sees it before the reviewer does. Before, it
    was withheld without asking anyone."""
    shown, record, shield = await run(kind, f"Alice: {REVIEW} on file", reviewer=REVIEWERS[verdict])
    assert record.runs == 1  # the step re-runs after the answer; the tool does not
    if verdict == "approve":
        assert shown == f"Alice: {REVIEW} on file"
    elif verdict == "respond":
        assert shown == "Ask the records team."
    else:
        assert REVIEW not in shown and "Alice" not in shown  # the model answered by itself
    executions = [r.body for r in shield.recorder.records() if r.kind == "tool_execution"]
    assert [e["tool_name"] for e in executions] == ["fetch_record"]
    requests = [r.body for r in shield.recorder.records() if r.kind == "approval_request"]
    assert len(requests) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_a_result_that_is_not_the_answer_is_not_output_checked(kind: str) -> None:
    shown, record, shield = await run(kind, f"Alice: {HIDE} card on file", direct=False)
    assert record.runs == 1
    assert shown == "the model's own answer"
    outputs = [r.body for r in shield.recorder.records() if r.kind == "decision" and r.body["channel"] == "model_output"]
    assert outputs == []


async def test_handoff_stays_a_handoff() -> None:
    """``AgentWorkflow``'s handoff tool is ``return_direct`` too, but its text goes to the next agent, which
    answers: it is checked as a tool result (``guard_handoffs``), never as the answer."""
    from airs_plugins.llamaindex import guard_handoffs

    shield = Shield.from_policy(POLICY, checks=[answer_only()])
    record = Record("Alice: on file")
    workflow = guard_handoffs(make_agent("workflow", guard_tools(record.tools(False), shield),
                                         [call("fetch_record", name="alice"), answer("the model's own answer")]),
                              shield)
    out, _asked = await drive(workflow, "show me alice")
    assert str(out.response.content) == "the model's own answer"
    decisions = [r.body for r in shield.recorder.records() if r.kind == "decision"]
    assert any(d["tool_name"] == "handoff" and d["channel"] == "tool_result" for d in decisions)
    assert not any(d["channel"] == "model_output" for d in decisions)


@pytest.mark.parametrize(("text", "shown"), [(f"Alice: {MASK} on file", "Alice: [MASKED] on file"),
                                             (f"Alice: {HIDE} card on file", None)])
async def test_inside_airs_workflow_the_answer_is_checked_once(text: str, shown: str | None) -> None:
    """``AIRSWorkflow`` checks the agent's answer itself, so the tool guard leaves the direct answer to it:
    one output decision, same outcome."""
    from airs_plugins.llamaindex import AIRSWorkflow

    shield = Shield.from_policy(POLICY, checks=[answer_only()])
    record = Record(text)
    agent = make_agent("function", guard_tools(record.tools(True), shield),
                       [call("fetch_record", name="alice"), answer("the model's own answer")])
    result, _asked = await drive(AIRSWorkflow(agent, shield), "show me alice")
    outputs = [r.body for r in shield.recorder.records() if r.kind == "decision" and r.body["channel"] == "model_output"]
    assert len(outputs) == 1
    if shown is None:
        assert not result.allowed and HIDE not in str(result)
    else:
        assert result.allowed and str(result) == shown
