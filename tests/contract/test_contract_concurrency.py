"""Many runs at once through one compiled agent and one ``Shield`` (as a server keeps them) behave
exactly as the same runs one at a time: no taint, approval or execution crosses from one run into
another, and the shared audit chain and execution ledger (SQLite files) stay whole."""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.checkpoint.memory import InMemorySaver

from airs_plugins import Shield

from .harness import (
    ADAPTERS,
    Answer,
    Executions,
    ToolFake,
    answer_for,
    assert_paired,
    build,
    call,
    make_shield,
    run_async,
    run_sync,
    script,
)

EXFIL = "mail for evil@attacker.example"
"""The outward post of two scenarios; the injected inbox names this address."""


def turns_of(name: str, tag: str) -> list[Any]:
    """The model's script for one scenario; ``tag`` marks the run in every argument it can."""
    if name == "clean":
        # the same outward post as the tainted run's, after a clean read: it runs, unless taint leaks across runs
        return [[call("lookup", {"q": f"weather {tag}"}, "c1")],
                [call("post_message", {"channel": f"general-{tag}", "text": EXFIL}, "c2")], "done"]
    if name == "tainted":
        # the inbox carries an injection naming the attacker's address: the post that carries it out must
        # not run, in this run only
        return [[call("read_inbox", {"folder": f"in-{tag}"}, "c1")],
                [call("post_message", {"channel": f"general-{tag}", "text": EXFIL}, "c2")], "done"]
    return [[call("send_email", {"to": "bob@example.com", "body": f"hi {tag}"}, "c1")], "over"]


ANSWERS: dict[str, Answer | None] = {"clean": None, "tainted": answer_for("reject"),
                                     "approved": answer_for("approve"), "rejected": answer_for("reject")}
RUNS = [(name, f"r{i}{name[:2]}") for i in range(2) for name in ANSWERS]  # 8 runs, the scenarios interleaved
_ASK = re.compile(r"please handle the (\w+) task as (\w+)")


class ScenarioModel(ToolFake):
    """One scripted model for every run: the script follows the scenario named in the run's request."""

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        time.sleep(0.005)  # long enough for the runs to interleave
        asked = next(str(m.content) for m in messages if isinstance(m, HumanMessage))
        found = _ASK.search(asked)
        assert found is not None, asked
        turns = script(*turns_of(found.group(1), found.group(2)))
        n = sum(isinstance(m, AIMessage) for m in messages)
        return ChatResult(generations=[ChatGeneration(message=turns[min(n, len(turns) - 1)])])


def _outcome(ex: Executions, state: dict[str, Any], shield: Shield, thread_id: str, tag: str,
             asked: list[Any]) -> dict[str, Any]:
    """What a run did, in terms that do not depend on timing: its side effects, tool message statuses,
    which calls a human was asked about and each audited decision's channel, tool and action."""
    answers = assert_paired(state["messages"])
    audited = sorted((r.body.get("channel") or r.kind, r.body.get("tool_name") or "", r.body.get("action") or "")
                     for r in shield.recorder.records() if r.body.get("thread_id") == thread_id)
    executed = [(n, args) for n, args in ex.log if any(tag in str(v) for v in args.values())]
    return {"executed": [n for n, _ in executed], "statuses": {k: m.status for k, m in sorted(answers.items())},
            "asked": sorted(r["tool_call_id"] for r in asked), "audited": audited}


class Agent:
    """One compiled agent for all runs, with a shield on SQLite audit and ledger files."""

    def __init__(self, adapter: str, tmp: Path) -> None:
        self.shield = make_shield(audit=tmp / "audit.db", ledger=tmp / "ledger.db")
        self.ex = Executions()
        self.graph = build(adapter, self.shield, ScenarioModel(responses=script("unused")), self.ex, InMemorySaver())

    def run(self, name: str, tag: str, phase: str) -> dict[str, Any]:
        config = {"configurable": {"thread_id": f"{tag}-{phase}"}}
        asked = run_sync(self.graph, f"please handle the {name} task as {tag}{phase}", config, ANSWERS[name])
        return _outcome(self.ex, self.graph.get_state(config).values, self.shield, f"{tag}-{phase}",
                        f"{tag}{phase}", asked)

    async def arun(self, name: str, tag: str, phase: str) -> dict[str, Any]:
        config = {"configurable": {"thread_id": f"{tag}-{phase}"}}
        asked = await run_async(self.graph, f"please handle the {name} task as {tag}{phase}", config, ANSWERS[name])
        return _outcome(self.ex, (await self.graph.aget_state(config)).values, self.shield, f"{tag}-{phase}",
                        f"{tag}{phase}", asked)


def _check_expected(outcomes: dict[str, dict[str, Any]]) -> None:
    """The scenarios' own expectations, so that "the same as alone" cannot mean "equally wrong"."""
    for (name, _tag), got in outcomes.items():
        if name == "clean":
            assert got["executed"] == ["lookup", "post_message"] and got["asked"] == [], got
        elif name == "tainted":
            assert got["executed"] == ["read_inbox"], got  # the exfiltrating post never ran
            assert got["statuses"]["c2"] == "error", got
        elif name == "approved":
            assert got["executed"] == ["send_email"] and got["asked"] == ["c1"], got
        else:
            assert got["executed"] == [] and got["asked"] == ["c1"] and got["statuses"]["c1"] != "success", got


def _assert_same_as_alone(alone: dict[Any, dict[str, Any]], together: dict[Any, dict[str, Any]],
                          shield: Shield) -> None:
    _check_expected(alone)
    assert together == alone
    verdict = shield.recorder.verify()
    assert verdict.ok, str(verdict)
    assert verdict.count >= 2 * sum(len(o["audited"]) for o in alone.values())


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_threads_on_one_agent_behave_as_runs_alone(adapter: str, tmp_path: Path) -> None:
    """8 runs in 8 threads (sync invoke, with interrupts and resumes) through one compiled agent: each
    run's outcome equals that of the same run alone, and the shared SQLite audit chain verifies."""
    agent = Agent(adapter, tmp_path)
    alone = {(n, t): agent.run(n, t, "alone") for n, t in RUNS}
    with ThreadPoolExecutor(max_workers=len(RUNS)) as pool:
        futures = {(n, t): pool.submit(agent.run, n, t, "together") for n, t in RUNS}
        together = {k: f.result(timeout=120) for k, f in futures.items()}
    _assert_same_as_alone(alone, together, agent.shield)


@pytest.mark.parametrize("adapter", ADAPTERS)
async def test_tasks_on_one_agent_behave_as_runs_alone(adapter: str, tmp_path: Path) -> None:
    """The same under ``ainvoke``: 8 runs gathered on one event loop."""
    agent = Agent(adapter, tmp_path)
    alone = {(n, t): await agent.arun(n, t, "alone") for n, t in RUNS}
    results = await asyncio.gather(*(agent.arun(n, t, "together") for n, t in RUNS))
    _assert_same_as_alone(alone, dict(zip(RUNS, results, strict=True)), agent.shield)


@pytest.mark.parametrize("answer", ["approve", "reject"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_paused_call_keeps_its_one_decision_across_the_resume(adapter: str, answer: str, tmp_path: Path) -> None:
    """The re-run after a resume does not decide the call again: the audit holds one decision and one
    approval request for it, and the request the reviewer saw is the one the answer resolved."""
    shield = make_shield(audit=tmp_path / "audit.db", ledger=tmp_path / "ledger.db")
    ex = Executions()
    graph = build(adapter, shield, ToolFake(responses=script(*turns_of("approved", "t"))), ex, InMemorySaver())
    thread_id = f"pause-{adapter}-{answer}"
    seen = run_sync(graph, "please mail bob", {"configurable": {"thread_id": thread_id}}, answer_for(answer))
    records = [r for r in shield.recorder.records() if r.body.get("thread_id") == thread_id]
    decisions = [r for r in records if r.kind == "decision" and r.body.get("channel") == "tool_call"]
    requests = [r for r in records if r.kind == "approval_request"]
    resolved = [r for r in records if r.kind == "approval"]
    assert len(decisions) == 1 and len(requests) == 1 and len(resolved) == 1, [(r.kind, r.body) for r in records]
    assert [s["id"] for s in seen] == [requests[0].body["request_id"]] == [resolved[0].body["request_id"]]
    assert decisions[0].body["correlation_id"] == requests[0].body["correlation_id"]
    assert len(ex.of("send_email")) == (1 if answer == "approve" else 0)
