"""An answer the judge node held for a reviewer, approved in the approval node after the operator changed the
policy (the graph rebuilt with a new Shield on the same checkpointer): released as the policy in force says."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from airs_plugins import Shield
from airs_plugins.langgraph._nodes import OUTPUT_REFUSAL
from contract.harness import judged_graph, new_config

TERM = "Project Falcon"
EMAIL = "ann.lee@corp.example"
TEXT = f"{TERM}: write to {EMAIL}"


def shield(banned: str = "require_approval", *, pii: bool = False) -> Shield:
    checks: list[dict[str, Any]] = [{"id": "limit.size", "bands": {"low": 0.2, "high": 0.9}},
                                    {"id": "output.banned", "action": banned}]
    if pii:
        checks.append({"id": "pii.detect", "action": "redact", "options": {"kinds": ["email"]}})
    return Shield.from_policy({"checks": checks, "banned_terms": [TERM]})


def judged(sh: Shield, saver: InMemorySaver) -> Any:
    return judged_graph([TEXT], sh, checkpointer=saver)[0]


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize(("after", "released"), [
    (shield(), TEXT),
    (shield(pii=True), None),  # redacted: checked below
    (shield("block"), OUTPUT_REFUSAL),
])
async def test_a_held_answer_is_released_under_the_policy_in_force(after: Shield, released: str | None,
                                                                   is_async: bool) -> None:
    saver, config = InMemorySaver(), new_config("lg-policy-change")
    out = judged(shield(), saver).invoke({"messages": [HumanMessage("q")]}, config)
    (pending,) = out["__interrupt__"]
    assert pending.value["channel"] == "model_output"
    resumed = judged(after, saver)
    resume = Command(resume={"type": "approve", "reviewer": "ann"})
    out = await resumed.ainvoke(resume, config) if is_async else resumed.invoke(resume, config)
    answer = str(out["messages"][-1].content)
    if released is not None:
        assert answer == released
    else:
        assert EMAIL not in answer and answer.startswith(TERM)
