"""Resume a paused, signed LlamaIndex run in a fresh process (driven by test_li_persist.py).

Usage: python _li_resume.py KIND BLOB_PATH LEDGER_PATH ANSWER [review]  → prints one JSON line.

``review``: the run paused on a tool *result* that needs a reviewer (the marked inbox), not on a call.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from _li_support import Counted, MarkerCheck, make_agent, make_shield

from airs_plugins import Action
from airs_plugins.llamaindex import ApprovalResponse, guard_tools, load_context, pending_approvals
from airs_plugins.llamaindex.testing import answer, call

STEPS = [call("read_inbox"), call("send_email", to="boss@corp.example", body="summary"), answer("sent it")]
REVIEW_STEPS = [call("read_inbox"), answer("read it")]


def review_marker() -> MarkerCheck:
    return MarkerCheck(score=1.0, action=Action.REQUIRE_APPROVAL)


async def main(kind: str, blob: str, ledger: str, verdict: str, review: bool = False) -> dict[str, object]:
    counted = Counted()
    shield = make_shield(ledger=ledger, marker=review_marker() if review else None)
    agent = make_agent(kind, guard_tools(counted.tools(), shield), REVIEW_STEPS if review else STEPS)
    ctx = load_context(agent, blob)  # key from AIRS_CONTEXT_KEY
    pending = await pending_approvals(ctx)
    handler = agent.run(ctx=ctx)
    handler.ctx.send_event(ApprovalResponse.answer(pending[0], {"type": verdict, "reviewer": "bob"}))
    result = await handler
    memory = await handler.ctx.store.get("memory")
    airs = await handler.ctx.store.get("airs_context")
    return {
        "result": str(result),
        "pending": [p.request_id for p in pending],
        "sent": counted.args_of("send_email"),
        "read": counted.count("read_inbox"),
        "memory": [[m.role.value, m.content] for m in await memory.aget_all()],
        "observations": [o["source"] for o in airs["observations"]],
        "kinds": [r.kind for r in shield.recorder.records()],
    }


if __name__ == "__main__":
    kind, blob_path, ledger, verdict = sys.argv[1:5]
    review = sys.argv[5:6] == ["review"]
    print(json.dumps(asyncio.run(main(kind, Path(blob_path).read_text(), ledger, verdict, review))))
