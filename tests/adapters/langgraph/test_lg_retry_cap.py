"""judge_node's retries count against the policy's ``caps.retries``: an answer that keeps failing review is asked
for again only as often as the cap allows, whatever ``max_retries`` the node was given, and the judge's record
says the cap stopped it. Before, no retry was counted anywhere and the cap could never fire."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage

from airs_plugins.langgraph._nodes import OUTPUT_REFUSAL
from contract.harness import FORBIDDEN, POLICY, judged_graph, make_shield, new_config


def capped(retries: int | None) -> Any:
    return make_shield(policy={**POLICY, "caps": {"retries": retries}})


BAD = f"bad {FORBIDDEN}"


async def test_a_run_that_keeps_failing_is_stopped_by_the_cap() -> None:
    graph, said = judged_graph([BAD], capped(2), max_retries=10, guard_input=True)
    out = await graph.ainvoke({"messages": [HumanMessage("q")]}, new_config())
    assert said == [BAD] * 3  # the answer and two retries: not the node's ten
    assert out["messages"][-1].content == OUTPUT_REFUSAL
    assert all(FORBIDDEN not in str(m.content) for m in out["messages"])
    record = out["airs_judge"]
    assert record["route"] == "end" and record["retries"] == 2
    assert "retry cap reached" in record["reason"] and "caps.retries 2" in record["reason"]
    assert out["airs_context"]["retries"] == 2


def test_a_cap_of_zero_allows_no_retry() -> None:
    graph, said = judged_graph([BAD, "good"], capped(0), max_retries=3)
    out = graph.invoke({"messages": [HumanMessage("q")]}, new_config())
    assert said == [BAD] and out["messages"][-1].content == OUTPUT_REFUSAL
    assert "caps.retries 0" in out["airs_judge"]["reason"]


def test_the_nodes_own_max_retries_still_holds_under_a_higher_cap() -> None:
    graph, said = judged_graph([BAD], capped(5), max_retries=1)
    out = graph.invoke({"messages": [HumanMessage("q")]}, new_config())
    assert said == [BAD] * 2 and out["messages"][-1].content == OUTPUT_REFUSAL
    assert "retry cap" not in out["airs_judge"]["reason"] and out["airs_context"]["retries"] == 1


def test_the_count_starts_again_at_each_input_the_guard_reads() -> None:
    graph, said = judged_graph([BAD, "good", BAD, "good again"], capped(1), max_retries=3, guard_input=True)
    config = new_config()
    graph.invoke({"messages": [HumanMessage("q1")]}, config)
    out = graph.invoke({"messages": [HumanMessage("q2")]}, config)
    assert said == [BAD, "good", BAD, "good again"] and out["messages"][-1].content == "good again"


def test_without_the_input_guard_the_count_runs_over_the_thread() -> None:
    """The run context learns of a new request from the input guard (as for the turn and loop caps): a graph
    without it counts its retries over the whole thread."""
    graph, said = judged_graph([BAD, "good", BAD, "never asked"], capped(1), max_retries=3)
    config = new_config()
    graph.invoke({"messages": [HumanMessage("q1")]}, config)
    out = graph.invoke({"messages": [HumanMessage("q2")]}, config)
    assert said == [BAD, "good", BAD] and out["messages"][-1].content == OUTPUT_REFUSAL
    assert "caps.retries 1" in out["airs_judge"]["reason"]


def test_the_per_request_counters_start_again_in_the_graphs_state() -> None:
    """The state's reducer kept the higher of two counts, so the input guard's reset never took: the turn cap
    counted over the whole thread (the third question's answer was turn 3). The context that read the later
    input now holds the counters."""
    graph, _ = judged_graph(["a", "b", "c"], capped(3), max_retries=3, guard_input=True)
    config = new_config()
    turns = [graph.invoke({"messages": [HumanMessage(q)]}, config)["airs_context"]["turns"] for q in ("q1", "q2", "q3")]
    assert turns == [1, 1, 1]
