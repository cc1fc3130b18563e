"""A long run cannot wash out its taint: an injection that has the model make a few hundred harmless reads
before the exfiltrating call is still stopped, under every adapter.

Found by review: a run kept only its newest 256 observations (in the core, and in the middleware's state
reducer when parallel results merge), so the injected read fell out and the outward call ran."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from airs_plugins._decision import MAX_OBSERVATIONS
from airs_plugins._observations import FOLDED_SOURCE

from .harness import ADAPTERS, POLICY, Executions, ToolFake, assert_paired, build, call, make_shield, new_config, script

READS = MAX_OBSERVATIONS + 20
EXFIL = call("post_message", {"channel": "ops", "text": "evil@attacker.example"}, "c_post")


# one turn of parallel reads (merged by the state reducers), and, for the middleware, one read per turn
@pytest.mark.parametrize(("adapter", "parallel"), [*((a, True) for a in ADAPTERS), ("middleware", False)])
def test_an_injected_address_is_still_blocked_after_hundreds_of_harmless_reads(adapter: str, parallel: bool) -> None:
    reads = [call("lookup", {"q": f"q{i}"}, f"c_look{i}") for i in range(READS)]
    turns: list[Any] = [[call("read_inbox", {"folder": "INBOX"}, "c_inbox")]]
    turns += [reads] if parallel else [[r] for r in reads]
    turns += [[EXFIL], "done"]
    policy = {**POLICY, "caps": {"tool_calls_per_hour": 10_000}}
    ex = Executions()
    graph = build(adapter, make_shield(policy=policy), ToolFake(responses=script(*turns)), ex, InMemorySaver())
    config = {**new_config(f"long-{adapter}"), "recursion_limit": 8 * READS}
    out = graph.invoke({"messages": [HumanMessage("check my inbox")]}, config)
    assert len(ex.of("lookup")) == READS
    assert ex.of("post_message") == []  # the exfiltration never ran
    answers = assert_paired(out["messages"])
    assert "AIRS blocked" in str(answers["c_post"].content)
    context = graph.get_state(config).values.get("airs_context")
    if context is not None:  # the middleware and the nodes keep the run's context in graph state
        observations = context["observations"]
        assert len(observations) == MAX_OBSERVATIONS
        assert observations[0]["source"] == FOLDED_SOURCE
        assert "injection" in observations[0]["attack_categories"]
