"""``AIRSWorkflow`` and an agent with a structured response (``output_cls`` / ``structured_output_fn``).

The structured response is part of the answer: checked with the text in one output decision, redacted
with it (rebuilt from its redacted JSON), withheld with it, released with it by a reviewer. Before, the
workflow dropped it: ``GuardResult`` had no structured response at all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from _li_support import drive
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.llms.mock import MockFunctionCallingLLM

from airs_plugins import Action, Channel, Shield
from airs_plugins.llamaindex import AIRSWorkflow, ApprovalResponse, GuardResult
from contract.rules import RuleCheck, rule

HIDE, ASK, BREAK = "ZX-HIDE", "ZX-ASK", "ZX-BREAK"


def output_markers() -> RuleCheck:
    """Blocks ``HIDE``, sends ``ASK`` to a reviewer, and redacts ``BREAK`` with the two characters after it
    (at the end of a JSON value: its closing quote and brace, so the redacted JSON no longer parses)."""
    return RuleCheck(rule(HIDE, Channel.MODEL_OUTPUT, Action.BLOCK), rule(ASK, Channel.MODEL_OUTPUT, Action.REQUIRE_APPROVAL),
                     rule(BREAK, Channel.MODEL_OUTPUT, Action.REDACT, extend=2), check_id="test.output_markers")


def shield() -> Shield:
    return Shield.from_policy({"checks": [{"id": "limit.size"}, {"id": "pii.detect", "action": "redact"}]}, checks=[output_markers()])


def agent(text: str, structured: dict[str, Any]) -> FunctionAgent:
    def respond(messages: Sequence[ChatMessage], **_: Any) -> ChatMessage:
        return ChatMessage(role="assistant", content=text)

    return FunctionAgent(tools=[], llm=MockFunctionCallingLLM(response_generator=respond),
                         structured_output_fn=lambda _messages: structured)


async def run(text: str, structured: dict[str, Any], reviewer: Any = None) -> GuardResult:
    result, _asked = await drive(AIRSWorkflow(agent(text, structured), shield()), "who is it?", reviewer)
    assert isinstance(result, GuardResult)
    return result


async def test_an_allowed_structured_response_is_returned() -> None:
    result = await run("It is Bob.", {"name": "Bob", "team": "billing"})
    assert result.allowed and result.structured_response == {"name": "Bob", "team": "billing"}


async def test_pii_in_the_structured_response_is_redacted_with_the_text() -> None:
    result = await run("It is Alice, alice.smith@example.com.", {"name": "Alice", "email": "alice.smith@example.com"})
    assert result.text == "It is Alice, [EMAIL]."
    assert result.structured_response == {"name": "Alice", "email": "[EMAIL]"}


@pytest.mark.parametrize(("where", "text", "structured"), [
    ("text", f"Here: {HIDE}", {"name": "Bob"}),
    ("structured", "Here it is.", {"name": HIDE}),
])
async def test_a_block_anywhere_withholds_both(where: str, text: str, structured: dict[str, Any]) -> None:
    result = await run(text, structured)
    assert not result.allowed and result.structured_response is None
    assert HIDE not in result.text


async def test_a_redaction_that_breaks_the_json_withholds_both() -> None:
    result = await run("Here it is.", {"name": BREAK})
    assert not result.allowed and result.structured_response is None


@pytest.mark.parametrize(("answer", "released"), [("approve", True), ("reject", False)])
async def test_a_reviewer_releases_or_withholds_both(answer: str, released: bool) -> None:
    def reviewer(ev: Any) -> ApprovalResponse:
        return getattr(ApprovalResponse, answer)(ev, reviewer="rev")

    result = await run("Here it is.", {"name": ASK}, reviewer)
    assert result.allowed is released
    assert result.structured_response == ({"name": ASK} if released else None)


PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "team": {"type": "string"}},
          "required": ["name"]}


@pytest.mark.parametrize(("structured", "allowed"), [({"name": "Bob", "team": "billing"}, True),
                                                     ({"team": "billing"}, False)])
async def test_the_output_schema_is_matched_against_the_structured_response(structured: dict[str, Any],
                                                                           allowed: bool) -> None:
    """Before, ``output_schema`` was matched against the text and the JSON together, which are not JSON: every
    answer of a structured agent was withheld."""
    checked = Shield.from_policy({"checks": [{"id": "output.schema"}, {"id": "pii.detect", "action": "redact"}]})
    workflow = AIRSWorkflow(agent("It is Bob.", structured), checked, output_schema=PERSON)
    result, _asked = await drive(workflow, "who is it?", None)
    assert isinstance(result, GuardResult)
    assert result.allowed is allowed
    assert result.structured_response == (structured if allowed else None)
    if not allowed:
        assert "structured answer does not match its schema" in result.decision["reason"]
