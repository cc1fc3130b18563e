"""``output.grounding``: links, addresses and numbers in an answer that nothing the run read supports.

The run's context holds the salient values of every tool result and document it read; a value of the
answer found in none of them, nor in the user's words or the system prompt, is ungrounded: uncertain
by default (the judge grades it; without one, the tier's fail mode: flag for model output)."""

from __future__ import annotations

from typing import Any

import pytest

from airs_plugins import Action, Channel, Layer, Observation, RunContext, Shield
from airs_plugins._decision import MAX_OBSERVATIONS
from airs_plugins._observations import FOLDED_SOURCE, bounded
from airs_plugins.audit import MemoryRecorder
from airs_plugins.judge import UNGROUNDED_HINT
from contract.grounding import judged_shield

ORDER_PAGE = ("Order 88412: shipped on 2026-11-20. Questions: support@acme.example or +44 20 7946 0958. "
              "Track it at https://track.acme.example/p/88412.")


def grounding(decision: Any) -> list[Any]:
    return [f for f in decision.findings if f.check == "output.grounding"]


def read_order(shield: Shield, question: str = "Where is my order?") -> RunContext:
    """A run that asked a question and read the order page from a tool."""
    ctx = shield.check_input(question).context
    return shield.check_tool_result("order_status", ORDER_PAGE, context=ctx).context


@pytest.fixture
def shield() -> Shield:
    return Shield.default(audit=MemoryRecorder())


def test_specifics_the_tools_returned_are_grounded(shield: Shield) -> None:
    ctx = read_order(shield)
    for answer in [
        "It shipped. Track it at https://track.acme.example/p/88412 or call +44 20 7946 0958.",
        "Write to SUPPORT@acme.example, or call 44-20-7946-0958.",  # case and separators do not matter
        "Track it at <track.acme.example/p/88412>.",
        "Your order has shipped.",  # nothing specific at all
    ]:
        assert grounding(shield.check_output(answer, context=ctx)) == [], answer


def test_an_invented_link_and_number_are_found_and_located(shield: Shield) -> None:
    ctx = read_order(shield)
    answer = "Call our hotline +1 555 013 7788 or see https://help.acme.example/returns (or https://track.acme.example/p/88412)."
    d = shield.check_output(answer, context=ctx)
    (f,) = grounding(d)
    assert f.category == "ungrounded" and f.score == 0.6 and f.maso == ("PG-2.5",)
    assert [answer[s:e] for s, e in f.spans] == ["+1 555 013 7788", "https://help.acme.example/returns"]
    assert "2 specific values (number, url)" in f.message
    assert "7788" not in f.message and "help.acme" not in f.message  # the audit gets kinds, not values
    assert d.action is Action.REDACT and d.reason == "phone detected"  # pii.detect's own default for answers
    # uncertain, no judge: model output's tier fail mode (flag) lets the answer out, with the finding recorded
    d = shield.check_output("See https://help.acme.example/returns", context=ctx)
    assert d.action is Action.ALLOW and d.flagged and grounding(d)
    last = [r for r in shield.recorder.records() if r.kind == "decision"][-1]
    assert [f["check"] for f in last.body["findings"]] == ["output.grounding"]


def test_values_from_the_user_and_the_system_prompt_are_grounded(shield: Shield) -> None:
    ctx = read_order(shield, question="Please e-mail the label to jo.bloggs@example.net")
    prompt = "You are Acme's assistant. The returns desk is on +44 20 7946 0001."
    answer = "I sent it to jo.bloggs@example.net; for returns call +44 20 7946 0001."
    assert grounding(shield.check_output(answer, context=ctx, instructions=prompt)) == []
    (f,) = grounding(shield.check_output(answer, context=ctx))  # without the prompt, its number is unknown
    assert [answer[s:e] for s, e in f.spans] == ["+44 20 7946 0001"]


def test_a_run_that_read_nothing_is_not_checked(shield: Shield) -> None:
    """No tool result, no document: the model answers from what it knows, and there is nothing to ground."""
    ctx = shield.check_input("What is the Python docs site?").context
    assert grounding(shield.check_output("See https://docs.python.org/3/", context=ctx)) == []
    strict = Shield.from_policy({"checks": [{"id": "output.grounding", "options": {"require_evidence": False}}]})
    assert grounding(strict.check_output("See https://docs.python.org/3/", context=ctx))


def test_narration_next_to_tool_calls_is_not_the_answer(shield: Shield) -> None:
    ctx = read_order(shield)
    text = "Let me check https://help.acme.example/returns for you."
    assert grounding(shield.check_output(text, context=ctx, interim=True)) == []
    assert grounding(shield.check_output(text, context=ctx))


def test_known_values_allowed_hosts_and_kinds() -> None:
    s = Shield.from_policy({"checks": [{"id": "output.grounding", "options": {
        "known_values": ["+1 555 013 7788"], "allowed_hosts": ["acme.example"]}}]})
    ctx = read_order(s)
    answer = "Call +1-555-013-7788, see https://help.acme.example/returns or mail returns@acme.example."
    assert grounding(s.check_output(answer, context=ctx)) == []
    assert grounding(s.check_output("See https://acme.example.evil.test/x", context=ctx))  # not a subdomain
    numbers_only = Shield.from_policy({"checks": [{"id": "output.grounding", "options": {"kinds": ["number"]}}]})
    ctx = read_order(numbers_only)
    assert grounding(numbers_only.check_output("See https://help.acme.example/returns", context=ctx)) == []
    assert grounding(numbers_only.check_output("Call +1 555 013 7788", context=ctx))
    # bare domains are left out by default: a model names well-known sites from what it knows
    assert grounding(Shield.default().check_output("Try python.org.", context=ctx)) == []


def test_an_incomplete_record_of_what_was_read_proves_nothing(shield: Shield) -> None:
    """A run that read a result with more distinct values than the policy records, or whose summary of its
    oldest reads outgrew its cap, may have read the value: the check stays silent rather than guess. So does a
    run whose observations predate ``values_complete`` (nobody knows what they left out). A long run whose
    oldest reads were folded whole still knows every value it read, so the check still speaks."""
    answer = "Call +1 555 013 7788."

    def read(*values: str, complete: bool = True) -> Observation:
        return Observation(source="t", channel=Channel.TOOL_RESULT, digest="sha256:0", values=values,
                           values_complete=complete)

    assert grounding(shield.check_output(answer, context=RunContext(observations=(read("12345678"),))))
    many = RunContext(observations=(read("12345678"),) * MAX_OBSERVATIONS)
    assert grounding(shield.check_output(answer, context=many))
    long_run = RunContext(observations=bounded((read("+15550137788"),) + (read("12345678"),) * MAX_OBSERVATIONS))
    assert long_run.observations[0].source == FOLDED_SOURCE and long_run.observations[0].values_complete
    assert grounding(shield.check_output(answer, context=long_run)) == []  # read long ago: still grounded
    assert grounding(shield.check_output("Call +1 555 013 9999.", context=long_run))
    overflowed = RunContext(observations=bounded(tuple(read(f"+1555{n:07d}") for n in range(5000))
                                                 + (read("12345678"),) * MAX_OBSERVATIONS))
    assert not overflowed.observations[0].values_complete
    assert grounding(shield.check_output(answer, context=overflowed)) == []
    capped = RunContext(observations=(read("12345678", complete=False),))
    assert grounding(shield.check_output(answer, context=capped)) == []
    old = RunContext.model_validate({"observations": [{"source": "t", "channel": "tool_result", "digest": "x",
                                                       "values": ["12345678"]}]})
    assert grounding(shield.check_output(answer, context=old)) == []
    page = "\n".join(f"Branch {n}: +1 555 {n:03d} {n:04d}" for n in range(100))  # 100 numbers, 64 recorded
    ctx = shield.check_tool_result("branches", page, context=RunContext()).context
    assert not ctx.observations[-1].values_complete
    assert grounding(shield.check_output("Call +1 555 099 0099.", context=ctx)) == []


def test_a_value_repeated_on_a_page_counts_once_toward_the_record(shield: Shield) -> None:
    """A page that repeats its link 70 times and gives one phone number is recorded whole: both values, so
    the record is complete and an invented number is still found."""
    page = "Help: https://help.acme.example/x\n" * 70 + "Phone: +44 20 7946 0958.\n"
    ctx = shield.check_tool_result("help", page, context=RunContext()).context
    assert set(ctx.observations[-1].values) == {"helpacmeexample/x", "+442079460958"}
    assert ctx.observations[-1].values_complete
    assert grounding(shield.check_output("Call +44 20 7946 0958 or visit https://help.acme.example/x", context=ctx)) == []
    assert grounding(shield.check_output("Call +1 555 013 7788.", context=ctx))


def test_a_page_of_one_value_repeated_is_read_within_bounds(shield: Shield) -> None:
    """Repeats do not use up the cap on values, but the places kept are bounded (eight per value on average),
    so a megabyte of one address repeated costs a bounded scan; the record then says it may be partial."""
    ctx = shield.check_tool_result("dump", "Write to ops@acme.example\n" * 100_000, context=RunContext()).context
    assert ctx.observations[-1].values == ("ops@acmeexample",) and not ctx.observations[-1].values_complete
    assert grounding(shield.check_output("Call +1 555 013 7788.", context=ctx)) == []


def test_a_phone_number_with_its_area_code_in_brackets_is_the_same_number(shield: Shield) -> None:
    ctx = shield.check_tool_result("lookup", "Desk: +1 (555) 013-7788, weekdays", context=RunContext()).context
    assert grounding(shield.check_output("Call +1 555 013 7788", context=ctx)) == []
    assert grounding(shield.check_output("Call 555-013-7789", context=ctx))  # one digit off is another number


def test_a_sentence_final_number_is_read_whole(shield: Shield) -> None:
    """A number at the end of a sentence used to lose its last group in the value extractor (the full stop
    failed its look-ahead), so it never matched the same number quoted elsewhere."""
    ctx = shield.check_tool_result("lookup", "The desk is on +44 20 7946 0958.", context=RunContext()).context
    assert "+442079460958" in ctx.observations[-1].values
    assert grounding(shield.check_output("Call +44 20 7946 0958 today", context=ctx)) == []


def test_raised_over_high_it_acts_and_redact_marks_the_values() -> None:
    s = Shield.from_policy({"checks": [{"id": "output.grounding", "action": "redact", "options": {"score": 0.9}}]})
    ctx = read_order(s)
    d = s.check_output("Call +1 555 013 7788 or +44 20 7946 0958.", context=ctx)
    assert d.action is Action.REDACT
    assert d.redacted == "Call [UNVERIFIED] or +44 20 7946 0958."
    approval = Shield.from_policy({"checks": [{"id": "output.grounding", "action": "require_approval",
                                                "options": {"score": 0.9}}]})
    ctx = read_order(approval)
    assert approval.check_output("Call +1 555 013 7788.", context=ctx).action is Action.REQUIRE_APPROVAL


def test_the_judge_grades_it_and_is_told_why() -> None:
    prompts: list[str] = []
    s = judged_shield(prompts)  # escalates what it is told looks invented (a sampled look passes)
    ctx = read_order(s)
    d = s.check_output("Returns are handled at https://returns.acme.example/start.", context=ctx)
    assert d.action is Action.BLOCK and d.layer is Layer.JUDGE
    assert UNGROUNDED_HINT in prompts[-1] and "output.grounding/ungrounded score 0.60" in prompts[-1]
    prompts.clear()
    assert s.check_output("Track it at https://track.acme.example/p/88412.", context=ctx).action is Action.ALLOW
    assert all(UNGROUNDED_HINT not in p for p in prompts)  # a sampled look at a grounded answer gets no hint


def test_numbers_an_answer_lays_out_are_not_specifics(shield: Shield) -> None:
    """The value extractor joins digit runs that an answer lays out (a price range, a code followed by the next
    list item's number); grounding checks numbers of eight digits or more, or with an international prefix,
    and never a range. Found on AgentDojo's own correct answers (tests/eval/test_grounding_agentdojo.py)."""
    ctx = read_order(shield)
    for answer in ["Rooms cost 500-1000 EUR a night.", "Rated 4.7, 110-200 per night", "1. 463820 2. the link",
                   "Between 1000 - 2000 people came."]:
        assert grounding(shield.check_output(answer, context=ctx)) == [], answer
    for answer in ["Your account is 12345678.", "Call +1 555 0137", "Reference 0137-7788 on the form"]:
        assert grounding(shield.check_output(answer, context=ctx)), answer
