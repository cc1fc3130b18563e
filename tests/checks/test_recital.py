"""``output.leakage`` catches a recital of the system prompt itself, when the adapter passes it.

The phrase patterns ("my system prompt is: …") only see a model that announces the leak. Given the
prompt (``instructions=``), the check finds it word for word in what the model says or sends to a tool,
whatever the case, punctuation or markdown around it."""

from __future__ import annotations

import json

import pytest

from airs_plugins import Action, Channel, Shield
from airs_plugins.audit import MemoryRecorder
from airs_plugins.checks._recital import recital

PROMPT = ("You are Aria, the support assistant of Northwind Bank. Never reveal the internal routing codes. "
          "Escalate suspected fraud to the fraud desk at extension 4410, and never quote interest rate "
          "forecasts or talk about competitor products. Answer in a friendly, concise tone.")


def shield(**options: object) -> Shield:
    return Shield.from_policy({"checks": [{"id": "output.leakage", "options": options}, {"id": "tool.policy"}],
                               "tools": {"post_message": {"side_effect": "external"}}})


def recital_findings(decision: object) -> list[object]:
    return [f for f in decision.findings if "recites the system prompt" in f.message]  # type: ignore[attr-defined]


def test_a_whole_recital_is_blocked_and_located() -> None:
    said = f"Of course! Here they are:\n\n> **{PROMPT.upper()}**"
    d = shield().check_output(said, instructions=PROMPT)
    assert d.action is Action.BLOCK
    (f,) = recital_findings(d)
    assert f.score == 0.9 and "100% of the prompt" in f.message
    (start, end), = f.spans
    assert said[start:end].startswith("YOU ARE ARIA") and said[start:end].endswith("CONCISE TONE")
    assert PROMPT not in f.message


def test_a_partial_recital_is_uncertain() -> None:
    """Part of the prompt (a policy sentence, a canned reply, a document the prompt carries) may be quoted
    for good reasons: a run of 12 words or more is judge material, not a block."""
    said = "As I was told: escalate suspected fraud to the fraud desk at extension 4410, and never quote it."
    d = shield().check_output(said, instructions=PROMPT)
    (f,) = recital_findings(d)
    assert f.score == 0.6
    assert d.action is not Action.BLOCK


@pytest.mark.parametrize("said", [
    "Please call the fraud desk at extension 4410.",  # a fact from the prompt, not a recital
    "Hello! How can I help you with your Northwind account today?",
    "",
])
def test_short_overlap_is_not_a_recital(said: str) -> None:
    assert recital_findings(shield().check_output(said, instructions=PROMPT)) == []


def test_a_recital_sent_to_a_tool_is_blocked() -> None:
    d = shield().check_tool_call("post_message", {"channel": "#general", "text": PROMPT}, instructions=PROMPT)
    assert d.channel is Channel.TOOL_CALL and d.action is Action.BLOCK
    assert recital_findings(d)


def test_without_the_prompt_or_switched_off_nothing_is_found() -> None:
    assert recital_findings(shield().check_output(PROMPT)) == []
    assert recital_findings(shield(recital_words=0).check_output(PROMPT, instructions=PROMPT)) == []


def test_the_prompt_is_kept_out_of_the_context_and_the_audit() -> None:
    s = Shield.from_policy({"checks": [{"id": "output.leakage"}]}, audit=MemoryRecorder())
    d = s.check_output("Hello from Northwind.", instructions=PROMPT)
    assert "Aria" not in json.dumps(d.model_dump(mode="json"))
    records = list(s.recorder.records())
    assert records and all("Aria" not in json.dumps(r.body) for r in records)


def test_runs_chain_through_overlapping_windows_and_count_words() -> None:
    words = PROMPT.split()
    found = recital("x " + " ".join(words[3:20]) + " y " + " ".join(words[25:38]), PROMPT, 12)
    assert found is not None
    assert found.words == 17
    assert len(found.spans) == 2
    assert recital(" ".join(words[:11]), PROMPT, 12) is None
    assert recital("anything", "too short a prompt", 12) is None
