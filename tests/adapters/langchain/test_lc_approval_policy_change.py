"""A result or an answer held for a reviewer, approved after the operator changed the policy (a restart with
another policy file): released as the policy in force says. Before, the approval released it as it was held
under the old rules, even what the new ones block or redact."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from airs_plugins import Shield
from airs_plugins._ledger import SQLiteLedger
from airs_plugins.langchain import AIRSMiddleware
from airs_plugins.langchain._enforce import OUTPUT_REFUSAL
from contract.harness import ToolFake, call, new_config, script

TERM = "Project Falcon"
EMAIL = "ann.lee@corp.example"
TEXT = f"{TERM}: write to {EMAIL}"
APPROVE = {"type": "approve", "reviewer": "ann"}
PAGE = [call("read_page", {"url": "https://example.com"}, "c_page")]


def policy(banned: str = "require_approval", *, pii: bool = False, sla: float | None = None) -> dict[str, Any]:
    """A banned term on answers and tool results (``banned``: what it does); when ``pii``, e-mail addresses
    redacted there too."""
    checks: list[dict[str, Any]] = [
        {"id": "limit.size", "bands": {"low": 0.2, "high": 0.9}}, {"id": "limit.caps"}, {"id": "tool.policy"},
        {"id": "taint.flow", "action": "require_approval"},
        {"id": "output.banned", "action": banned, "channels": ["model_output", "tool_result"]}]
    if pii:
        checks.append({"id": "pii.detect", "action": "redact",
                       "options": {"kinds": ["email"], "redact_channels": ["model_output", "tool_result"]}})
    tiers = {"tiers": {"MEDIUM": {"review_sla_s": sla}}} if sla is not None else {}
    return {"checks": checks, "banned_terms": [TERM], "tools": {"read_page": {"side_effect": "read"}}, **tiers}


class Pages:
    def __init__(self) -> None:
        self.runs = 0

    def tools(self) -> list[Any]:
        owner = self

        @tool
        def read_page(url: str) -> str:
            """Read a web page."""
            owner.runs += 1
            return TEXT

        return [read_page]


def paused_then_approved(tmp_path: Path, turns: list[Any], before: dict[str, Any], after: dict[str, Any],
                         wait_s: float = 0.0) -> tuple[list[Any], ToolFake, Pages, dict[str, Any]]:
    """Run under ``before`` until the reviewer is asked; resume in a fresh agent (new model, Shield, saver
    connection) built with ``after``, approving. Returns the messages, the second model, the tool and the
    request the reviewer saw."""
    db, config, pages = tmp_path / "checkpoints.sqlite", new_config("policy-change"), Pages()

    def fresh(conn: sqlite3.Connection, source: dict[str, Any]) -> tuple[Any, ToolFake]:
        model = ToolFake(responses=script(*turns))
        sh = Shield.from_policy(source, ledger=SQLiteLedger(tmp_path / "ledger.sqlite"), audit=tmp_path / "a.db")
        return create_agent(model, pages.tools(), middleware=[AIRSMiddleware(sh)],
                            checkpointer=SqliteSaver(conn)), model

    conn = sqlite3.connect(db, check_same_thread=False)
    first, _ = fresh(conn, before)
    (pending,) = first.invoke({"messages": [HumanMessage("go")]}, config)["__interrupt__"]
    conn.close()
    time.sleep(wait_s)
    conn2 = sqlite3.connect(db, check_same_thread=False)
    second, model = fresh(conn2, after)
    out = second.invoke(Command(resume={pending.id: APPROVE}), config)
    assert not out.get("__interrupt__")
    messages = second.get_state(config).values["messages"]
    conn2.close()
    return messages, model, pages, pending.value


def result_of(messages: list[Any]) -> str:
    (result,) = [m for m in messages if isinstance(m, ToolMessage)]
    return str(result.content)


def test_a_held_result_is_released_with_the_redaction_in_force(tmp_path: Path) -> None:
    messages, model, pages, asked = paused_then_approved(tmp_path, [PAGE, "done"], policy(), policy(pii=True))
    assert asked["channel"] == "tool_result" and pages.runs == 1
    released = result_of(messages)
    assert EMAIL not in released and released.startswith(TERM)
    assert EMAIL not in str(model.prompts) and TERM in str(model.prompts)
    assert messages[-1].content == "done"


def test_a_held_result_the_policy_in_force_blocks_is_withheld(tmp_path: Path) -> None:
    messages, model, pages, _asked = paused_then_approved(tmp_path, [PAGE, "done"], policy(), policy("block"))
    assert pages.runs == 1
    assert "withheld" in result_of(messages) and "changed since the request" in result_of(messages)
    assert EMAIL not in str(model.prompts)  # the page itself (the reason names the banned term)


def answers_of(messages: list[Any]) -> list[str]:
    return [str(m.content) for m in messages if isinstance(m, AIMessage)]


def test_a_held_answer_is_released_with_the_redaction_in_force(tmp_path: Path) -> None:
    messages, _model, _pages, asked = paused_then_approved(tmp_path, [TEXT], policy(), policy(pii=True))
    assert asked["channel"] == "model_output"
    (answer,) = answers_of(messages)
    assert EMAIL not in answer and answer.startswith(TERM)


@pytest.mark.parametrize("after", [policy("block"), policy("block", pii=True)])
def test_a_held_answer_the_policy_in_force_blocks_is_refused(tmp_path: Path, after: dict[str, Any]) -> None:
    messages, _model, _pages, _asked = paused_then_approved(tmp_path, [TEXT], policy(), after)
    assert answers_of(messages) == [OUTPUT_REFUSAL]
    assert EMAIL not in str([m.content for m in messages])


def test_under_the_same_policy_the_held_answer_is_released_as_it_was(tmp_path: Path) -> None:
    messages, _model, _pages, _asked = paused_then_approved(tmp_path, [TEXT], policy(), policy())
    assert answers_of(messages) == [TEXT]


def test_a_shortened_sla_expires_the_held_answer(tmp_path: Path) -> None:
    """Asked with a day to answer; restarted under a policy that gives a reviewer half a second; approved a
    second after the question: expired, so refused (before, the day the request was raised with held)."""
    messages, _model, _pages, _asked = paused_then_approved(tmp_path, [TEXT], policy(), policy(sla=0.5), wait_s=1.0)
    assert answers_of(messages) == [OUTPUT_REFUSAL]
