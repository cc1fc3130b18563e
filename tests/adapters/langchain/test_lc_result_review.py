"""A tool result nobody should read unchecked.

* ``return_direct``: the tool's result *is* the run's answer (``create_agent`` ends the run on it), so
  it passes the output guard like any answer: a block replaces it with the refusal, a redaction
  rewrites it, an approval holds it for a reviewer. Before, only the result guard saw it, and what the
  output guard would have stopped (PII it redacts only in answers, say) went straight to the user.
* A result the result guard sends to a reviewer (``require_approval``: the judge said review, or an
  uncertain finding under a tier whose fail mode asks a human) waits for that reviewer before the model
  reads it. Before, the LangChain adapters passed it on as if it were allowed.

Where nobody can be asked (``SecureToolNode`` never interrupts), the result is withheld: fail closed.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from airs_plugins import Action, Channel, Shield
from airs_plugins._ledger import SQLiteLedger
from airs_plugins.langchain import AIRSMiddleware
from airs_plugins.langchain._enforce import OUTPUT_REFUSAL
from contract.harness import (
    ADAPTERS,
    POLICY,
    MarkerCheck,
    ToolFake,
    answer_for,
    assert_paired,
    build,
    call,
    new_config,
    run_async,
    run_sync,
    script,
)
from contract.rules import RuleCheck, rule

HIDE = "ZX-ANSWER-BLOCK"
"""Blocked in answers only (a tool result may carry it to the model)."""
MASK = "ZX-ANSWER-MASK"
"""Redacted in answers only."""
CHECK_ME = "ZX-RESULT-REVIEW"
"""A tool result carrying this needs a reviewer before anyone reads it."""
SHOWN_REVIEW = "ZX-REVIEW-ME"
"""The harness's marker for an answer that needs a reviewer."""


def answer_only() -> RuleCheck:
    """What an output guard stops but a result guard lets through, and a result that needs review."""
    return RuleCheck(rule(HIDE, Channel.MODEL_OUTPUT, Action.BLOCK), rule(MASK, Channel.MODEL_OUTPUT, Action.REDACT),
                     rule(CHECK_ME, Channel.TOOL_RESULT, Action.REQUIRE_APPROVAL), check_id="test.answer_only")


def shield(**kwargs: Any) -> Shield:
    return Shield.from_policy(POLICY, checks=[MarkerCheck(), answer_only()], **kwargs)


class Records:
    """``fetch_record`` (``return_direct``) and ``read_page`` (not) return ``text``; runs are counted."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.log: list[tuple[str, dict[str, Any]]] = []

    def runs(self, name: str) -> int:
        return sum(1 for n, _ in self.log if n == name)

    def tools(self) -> list[BaseTool]:
        owner = self

        @tool(return_direct=True)
        def fetch_record(name: str) -> str:
            """Fetch a customer record and show it to the user as it is."""
            owner.log.append(("fetch_record", {"name": name}))
            return owner.text

        @tool
        def read_page(url: str) -> str:
            """Read a web page."""
            owner.log.append(("read_page", {"url": url}))
            return owner.text

        return [fetch_record, read_page]


DIRECT = [call("fetch_record", {"name": "alice"}, "c_rec")]
PAGE = [call("read_page", {"url": "https://example.com"}, "c_page")]


def agent(adapter: str, text: str, turn: list[dict[str, Any]], checkpointer: Any = None,
          sh: Shield | None = None) -> tuple[Any, Records, ToolFake]:
    records = Records(text)
    model = ToolFake(responses=script(turn, "the model's own answer"))
    graph = build(adapter, sh or shield(), model, records, checkpointer or InMemorySaver())  # type: ignore[arg-type]
    return graph, records, model


def answer_of(messages: list[Any], call_id: str) -> str:
    return str(assert_paired(messages)[call_id].content)


def run(adapter: str, graph: Any, mode: str, answer: Any = None) -> tuple[list[Any], list[Any]]:
    config = new_config()
    if mode == "ainvoke":
        asked = asyncio.run(run_async(graph, "go", config, answer))
    else:
        asked = run_sync(graph, "go", config, answer, stream=mode == "stream")
    return graph.get_state(config).values["messages"], asked


# -- return_direct: the result is the answer ------------------------------------------------------
@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_direct_answer_blocked_by_the_output_guard(adapter: str, mode: str) -> None:
    graph, records, _model = agent(adapter, f"Alice's record: {HIDE} card on file", DIRECT)
    messages, _asked = run(adapter, graph, mode)
    assert records.runs("fetch_record") == 1
    assert answer_of(messages, "c_rec") == OUTPUT_REFUSAL
    assert HIDE not in str([m.content for m in messages])


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_direct_answer_redacted_by_the_output_guard(adapter: str, mode: str) -> None:
    graph, records, _model = agent(adapter, f"Alice's record: {MASK} on file", DIRECT)
    messages, _asked = run(adapter, graph, mode)
    assert records.runs("fetch_record") == 1
    assert answer_of(messages, "c_rec") == "Alice's record: [MASKED] on file"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_result_that_is_not_the_answer_is_left_to_the_result_guard(adapter: str) -> None:
    """The output guard is for what the user is shown: the model may read the marker, and answers."""
    graph, records, _model = agent(adapter, f"page: {HIDE} and {MASK}", PAGE)
    messages, _asked = run(adapter, graph, "invoke")
    assert records.runs("read_page") == 1
    assert answer_of(messages, "c_page") == f"page: {HIDE} and {MASK}"
    assert messages[-1].content == "the model's own answer"


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize(("adapter", "kind", "shown"), [
    ("middleware", "approve", f"record {SHOWN_REVIEW} ok"),
    ("middleware", "reject", "withheld"),
    ("middleware", "respond", "reviewer answered for None"),
    ("tools", "approve", f"record {SHOWN_REVIEW} ok"),
    ("tools", "reject", "withheld"),
    ("tools", "respond", "reviewer answered for None"),
])
def test_direct_answer_needing_review_waits_for_the_reviewer(adapter: str, kind: str, shown: str,
                                                             mode: str) -> None:
    graph, records, _model = agent(adapter, f"record {SHOWN_REVIEW} ok", DIRECT)
    messages, asked = run(adapter, graph, mode, answer_for(kind))
    assert records.runs("fetch_record") == 1  # the pause re-ran the tool task; the ledger replayed it
    assert [a["channel"] for a in asked] == ["model_output"]
    assert asked[0]["payload_preview"] == f"record {SHOWN_REVIEW} ok"
    assert shown in answer_of(messages, "c_rec")
    if kind != "approve":
        assert SHOWN_REVIEW not in str([m.content for m in messages])


def test_direct_answer_needing_review_is_withheld_where_nobody_can_be_asked() -> None:
    """``SecureToolNode`` never interrupts (all calls of a turn share its task): fail closed."""
    graph, records, _model = agent("nodes", f"record {SHOWN_REVIEW} ok", DIRECT)
    messages, asked = run("nodes", graph, "invoke")
    assert asked == []
    assert records.runs("fetch_record") == 1
    text = answer_of(messages, "c_rec")
    assert "withheld" in text and "no human could be asked" in text
    assert SHOWN_REVIEW not in str([m.content for m in messages])


# -- a result the result guard sends to a reviewer ------------------------------------------------
@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize(("adapter", "kind"), [(a, k) for a in ("middleware", "tools")
                                               for k in ("approve", "reject", "respond")])
def test_result_needing_review_reaches_the_model_only_when_released(adapter: str, kind: str, mode: str) -> None:
    graph, records, model = agent(adapter, f"page {CHECK_ME} body", PAGE)
    messages, asked = run(adapter, graph, mode, answer_for(kind))
    assert records.runs("read_page") == 1
    assert [(a["channel"], a["tool_name"]) for a in asked] == [("tool_result", "read_page")]
    seen_by_model = str(model.prompts)
    result = answer_of(messages, "c_page")
    if kind == "approve":
        assert result == f"page {CHECK_ME} body"
        assert CHECK_ME in seen_by_model
    else:
        assert CHECK_ME not in seen_by_model and CHECK_ME not in result
        assert ("reviewer answered for read_page" if kind == "respond" else "withheld") in result
    assert messages[-1].content == "the model's own answer"


def test_result_needing_review_is_withheld_by_the_secure_tool_node() -> None:
    graph, records, model = agent("nodes", f"page {CHECK_ME} body", PAGE)
    messages, asked = run("nodes", graph, "invoke")
    assert asked == [] and records.runs("read_page") == 1
    assert CHECK_ME not in str(model.prompts)
    assert "no human could be asked" in answer_of(messages, "c_page")


def test_result_review_survives_a_restart(tmp_path: Path) -> None:
    """Paused on the review with SqliteSaver and a file ledger; a fresh process resumes it: the tool does
    not run again, and the reviewer's answer decides what the model reads."""
    db, config = tmp_path / "checkpoints.sqlite", new_config("review-restart")
    records = Records(f"page {CHECK_ME} body")

    def fresh(conn: sqlite3.Connection) -> tuple[Any, ToolFake]:
        model = ToolFake(responses=script(PAGE, "the model's own answer"))
        sh = shield(ledger=SQLiteLedger(tmp_path / "ledger.sqlite"), audit=tmp_path / "audit.db")
        return create_agent(model, records.tools(), middleware=[AIRSMiddleware(sh)],
                            checkpointer=SqliteSaver(conn)), model

    conn = sqlite3.connect(db, check_same_thread=False)
    first, _ = fresh(conn)
    out = first.invoke({"messages": [HumanMessage("go")]}, config)
    (pending,) = out["__interrupt__"]
    conn.close()

    conn2 = sqlite3.connect(db, check_same_thread=False)
    second, model = fresh(conn2)
    second.invoke(Command(resume={pending.id: answer_for("reject")(pending.value)}), config)
    messages = second.get_state(config).values["messages"]
    conn2.close()
    assert records.runs("read_page") == 1
    assert "withheld" in answer_of(messages, "c_page")
    assert CHECK_ME not in str(model.prompts)
    assert isinstance(messages[-1], AIMessage) and messages[-1].content == "the model's own answer"
    assert not any(isinstance(m, ToolMessage) and CHECK_ME in str(m.content) for m in messages)


@pytest.mark.parametrize("adapter", ["middleware", "tools"])
def test_an_approved_call_is_not_mistaken_for_an_answer(adapter: str) -> None:
    """A gated call the reviewer approved still returns its result to the model, output guard untouched."""
    policy = {**POLICY, "tools": {**POLICY["tools"], "read_page": {"require_approval": True}}}
    sh = Shield.from_policy(policy, checks=[MarkerCheck(), answer_only()])
    graph, records, model = agent(adapter, f"page: {HIDE}", PAGE, sh=sh)
    messages, asked = run(adapter, graph, "invoke", answer_for("approve"))
    assert [(a["channel"], a["tool_name"]) for a in asked] == [("tool_call", "read_page")]
    assert records.runs("read_page") == 1
    assert answer_of(messages, "c_page") == f"page: {HIDE}"
    assert HIDE in str(model.prompts)


def test_a_review_paused_by_an_earlier_version_resumes_without_running_the_tool_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ledger slots are named by the message that made the call; an earlier version named them by the task. A run
    paused on the review under that version (the call ran, its claim is under the task's name) resumes after the
    upgrade on the same slot: the tool does not run again."""
    from airs_plugins.langchain import _enforce

    db, config = tmp_path / "checkpoints.sqlite", new_config("review-upgrade")
    records = Records(f"page {CHECK_ME} body")

    def fresh(conn: sqlite3.Connection) -> Any:
        model = ToolFake(responses=script(PAGE, "the model's own answer"))
        sh = shield(ledger=SQLiteLedger(tmp_path / "ledger.sqlite"))
        return create_agent(model, records.tools(), middleware=[AIRSMiddleware(sh)], checkpointer=SqliteSaver(conn))

    named_by_task = _enforce.call_ledger
    with monkeypatch.context() as earlier:
        earlier.setattr(_enforce, "call_ledger", lambda shield, key, name, args, call_id, message_id=None:
                        named_by_task(shield, key, name, args, call_id))
        conn = sqlite3.connect(db, check_same_thread=False)
        out = fresh(conn).invoke({"messages": [HumanMessage("go")]}, config)
        (pending,) = out["__interrupt__"]
        conn.close()
    ledger = SQLiteLedger(tmp_path / "ledger.sqlite")
    assert not any("@msg:" in e.tool_call_id for e in ledger.entries(config["configurable"]["thread_id"]))

    conn2 = sqlite3.connect(db, check_same_thread=False)
    second = fresh(conn2)
    second.invoke(Command(resume={pending.id: answer_for("approve")(pending.value)}), config)
    messages = second.get_state(config).values["messages"]
    conn2.close()
    assert records.runs("read_page") == 1
    assert CHECK_ME in answer_of(messages, "c_page")
