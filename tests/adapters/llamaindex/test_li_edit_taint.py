"""A reviewer's edit of a guarded LlamaIndex call is re-checked with what the run has read: an edit to the
address only the injected mail names is refused, as the model's own call with it would be (before, the re-check
knew no taint and the edit ran)."""

from __future__ import annotations

import pytest
from _li_support import Counted, MarkerCheck, drive, make_agent, make_shield

from airs_plugins.llamaindex import ApprovalRequired, ApprovalResponse, guard_tools
from airs_plugins.llamaindex.testing import answer, call

EVIL = "attacker@evil.example"  # only Counted.inbox_text names it


@pytest.mark.parametrize("kind", ["function", "react"])
async def test_an_edit_to_an_injected_address_does_not_run(counted: Counted, kind: str) -> None:
    shield = make_shield(marker=MarkerCheck(score=0.95))  # sure of the injection: its address is an injected value
    agent = make_agent(kind, guard_tools(counted.tools(), shield), [
        call("read_inbox"), call("send_email", to="boss@corp.example", body="summary"), answer("done")])

    def reviewer(ev: ApprovalRequired) -> ApprovalResponse:
        assert ev.tool_name == "send_email"
        return ApprovalResponse.edit(ev, {"to": EVIL, "body": "summary"}, reviewer="rev")

    _, asked = await drive(agent, "read my inbox and mail the boss a summary", reviewer)
    assert len(asked) == 1
    assert counted.args_of("send_email") == []
    (approval,) = [r.body for r in shield.recorder.records() if r.kind == "approval"]
    assert approval["action"] == "block" and "edited arguments blocked" in approval["reason"]
