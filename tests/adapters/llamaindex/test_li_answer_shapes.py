"""What an ``ApprovalResponse`` can say: several reviewers' decisions at once (a CRITICAL call needs two
distinct approvers, as with LangChain's list resume), and nothing it cannot mean (unknown fields, args on an
approve). And a guarded tool takes positional arguments like the tool it wraps."""

from __future__ import annotations

from typing import Any

import pytest
from _li_support import Counted, drive, make_agent, make_shield
from llama_index.core.workflow import JsonPickleSerializer, JsonSerializer
from pydantic import ValidationError

from airs_plugins.llamaindex import ApprovalRequired, ApprovalResponse, guard_tools
from airs_plugins.llamaindex.testing import answer, call

CRITICAL = {"tools": {"drop_db": {"side_effect": "irreversible", "risk_tier": "CRITICAL"}}}


@pytest.mark.parametrize(("decisions", "runs"), [
    ([{"type": "approve", "reviewer": "alice"}], False),
    ([{"type": "approve", "reviewer": "alice"}, {"type": "approve", "reviewer": "alice"}], False),
    ([{"type": "approve", "reviewer": "alice"}, {"type": "reject", "reviewer": "bob"}], False),
    ([{"type": "approve", "reviewer": "alice"}, {"type": "approve", "reviewer": "bob"}], True),
])
async def test_a_critical_call_runs_with_two_distinct_approvers(counted: Counted, decisions: list[dict[str, Any]],
                                                                runs: bool) -> None:
    """One response carrying two reviewers' decisions releases a call whose tier needs two approvers; one
    approver, the same one twice, or a second reviewer's rejection does not. Before, a response carried one
    decision and a list was refused, so such a call could never run."""
    shield = make_shield(policy=CRITICAL)
    agent = make_agent("function", guard_tools(counted.tools(), shield), [call("drop_db", name="staging"),
                                                                          answer("done")])

    def reviewers(ev: ApprovalRequired) -> ApprovalResponse:
        assert ev.request["approvals_required"] == 2
        return ApprovalResponse.answer(ev, decisions if len(decisions) > 1 else decisions[0])

    _, asked = await drive(agent, "drop staging", reviewers)
    assert len(asked) == 1
    assert (counted.args_of("drop_db") == [{"name": "staging"}]) is runs
    (approval,) = [r.body for r in shield.recorder.records() if r.kind == "approval"]
    assert [a["reviewer"] for a in approval["answers"]] == [d["reviewer"] for d in decisions]


def test_several_decisions_survive_a_saved_context() -> None:
    """A resolved answer is saved with a paused run; read back, it carries every reviewer's decision."""
    ev = ApprovalResponse.answer("apr-1", [{"type": "approve", "reviewer": "a"}, {"type": "approve", "reviewer": "b"}])
    assert [(d.type, d.reviewer, d.request_id) for d in ev.answers()] == [("approve", "a", "apr-1"),
                                                                          ("approve", "b", "apr-1")]
    for serializer in (JsonSerializer(), JsonPickleSerializer()):
        back = serializer.deserialize(serializer.serialize(ev))
        assert isinstance(back, ApprovalResponse)
        assert back.answers() == ev.answers() and back.response == "approve"


def test_an_unknown_field_is_refused() -> None:
    """A misspelt or invented field used to be kept silently as extra event data."""
    with pytest.raises(TypeError, match="no field 'bogus'"):
        ApprovalResponse(request_id="apr-1", type="approve", bogus=1)


@pytest.mark.parametrize("answer_", [
    {"type": "approve", "args": {"to": "boss@corp.example"}},
    [{"type": "approve", "reviewer": "a"}, {"type": "approve", "reviewer": "b", "args": {"to": "x"}}],
])
def test_args_on_an_approve_are_refused(answer_: Any) -> None:
    """An approve runs the model's call; args with it used to be ignored while the audit recorded an edited
    digest. An edit is how other arguments are given."""
    with pytest.raises(ValidationError, match="an approve carries no args"):
        ApprovalResponse.answer("apr-1", answer_)
    assert ApprovalResponse.edit("apr-1", {"to": "boss@corp.example"}).args == {"to": "boss@corp.example"}


def test_the_first_decision_is_the_flat_one() -> None:
    with pytest.raises(ValidationError, match="not the first decision's"):
        ApprovalResponse(request_id="apr-1", type="approve", decisions=[{"type": "reject"}])


async def test_positional_arguments_are_the_tools(counted: Counted) -> None:
    """``tool.acall(a, b)`` names a and b by the tool's schema, as the tool itself does. Before, the first one
    was taken for the workflow context."""
    _read, send, _drop = guard_tools(counted.tools(), make_shield(policy={"tools": {
        "send_email": {"side_effect": "read"}}}))
    out = await send.acall("boss@corp.example", "hi")
    assert str(out.content) == "sent to boss@corp.example"
    assert counted.args_of("send_email") == [{"to": "boss@corp.example", "body": "hi"}]
    with pytest.raises(TypeError, match="multiple values for to"):
        await send.acall("boss@corp.example", to="x", body="hi")
    assert len(counted.calls) == 1
