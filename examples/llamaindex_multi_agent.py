"""A LlamaIndex AgentWorkflow with a handoff, guarded by AIRS, offline (scripted model).

Run: python examples/llamaindex_multi_agent.py

A triage agent hands off to a payments agent. The payments tools are wrapped once with
``guard_tools``; the guard travels with the tools, so the handoff changes nothing: the transfer, whose
IBAN came from a tool result, waits for a human, and a denied tool never runs. ``guard_handoffs`` puts
the handoff itself through the same checks (it is decided and audited, and its reason is scanned).
"""

from __future__ import annotations

import asyncio

from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent, ToolCallResult

from airs_plugins import Shield
from airs_plugins.llamaindex import ApprovalRequired, ApprovalResponse, guard_handoffs, guard_tools
from airs_plugins.llamaindex.testing import answer, call, scripted_llm

POLICY = {
    "tools": {
        "lookup_invoice": {"risk_tier": "LOW", "side_effect": "read"},
        "transfer_funds": {"risk_tier": "HIGH", "side_effect": "irreversible", "require_approval": True},
        "close_account": {"allow": False},
        "handoff": {"risk_tier": "LOW", "side_effect": "read"},
    },
}
transfers: list[dict[str, object]] = []


def lookup_invoice(invoice_id: str) -> str:
    """Look up an invoice by id."""
    return f"Invoice {invoice_id}: ACME Ltd, 1200 EUR, IBAN DE89 3704 0044 0532 0130 00"


def transfer_funds(iban: str, amount_eur: int) -> str:
    """Transfer money to an IBAN."""
    transfers.append({"iban": iban, "amount_eur": amount_eur})
    return f"transferred {amount_eur} EUR"


def close_account() -> str:
    """Close the company account."""
    raise AssertionError("never reached: the policy denies this tool")


async def main() -> None:
    shield = Shield.from_policy(POLICY)
    tools = guard_tools([lookup_invoice, transfer_funds, close_account], shield)
    llm = scripted_llm([
        call("handoff", to_agent="payments", reason="the user wants an invoice paid"),
        call("lookup_invoice", invoice_id="INV-7"),
        call("close_account"),
        call("transfer_funds", iban="DE89370400440532013000", amount_eur=1200),
        answer("Invoice INV-7 is paid."),
    ])
    triage = FunctionAgent(name="triage", description="Routes requests.", tools=[], llm=llm,
                           can_handoff_to=["payments"])
    payments = FunctionAgent(name="payments", description="Pays invoices.", tools=tools, llm=llm)
    workflow = guard_handoffs(AgentWorkflow(agents=[triage, payments], root_agent="triage"), shield)

    handler = workflow.run(user_msg="Please pay invoice INV-7")
    async for ev in handler.stream_events():
        if isinstance(ev, ToolCallResult):
            status = "refused" if ev.tool_output.is_error else "ok"
            print(f"[{status:7}] {ev.tool_name}: {str(ev.tool_output.content)[:100]}")
        elif isinstance(ev, ApprovalRequired):
            print(f"[approve?] {ev.tool_name} {ev.tool_args} ({ev.risk_tier}): {ev.reason}")
            handler.ctx.send_event(ApprovalResponse.approve(ev, reviewer="cfo", reason="matches the invoice"))
    result = await handler
    print(f"\n{result.current_agent_name}: {result}")
    print(f"Transfers: {transfers}")
    assert transfers == [{"iban": "DE89370400440532013000", "amount_eur": 1200}], transfers
    handoffs = [r.body["action"] for r in shield.recorder.records()
                if r.kind == "decision" and r.body["tool_name"] == "handoff"]
    print(f"Handoff decisions: {handoffs}")
    print(f"Audit: chain {shield.recorder.verify()}")


if __name__ == "__main__":
    asyncio.run(main())
