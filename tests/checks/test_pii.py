"""pii.detect: validators, context scoring, per-channel actions and redaction that round-trips spans."""

from __future__ import annotations

import pytest

from airs_plugins import Action, Channel, Shield
from airs_plugins.checks.pii import iban_ok, luhn_ok

from .conftest import make, subject

PII = "pii.detect"


def kinds(text: str, channel: Channel = Channel.MODEL_OUTPUT, **opts: object) -> dict[str, str]:
    out = {}
    for f in make(PII, **opts).run(subject(text, channel)):
        s, e = f.spans[0]
        out[f.message.split()[0]] = text[s:e]
    return out


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("mail jane.roe+x@mail.example.org now", "email", "jane.roe+x@mail.example.org"),
        ("call +44 20 7946 0958 today", "phone", "+44 20 7946 0958"),
        ("phone: (415) 555-2671", "phone", "(415) 555-2671"),
        ("Telefon 030 12345678", "phone", "030 12345678"),
        ("card 4111 1111 1111 1111 exp 01/29", "card", "4111 1111 1111 1111"),
        ("Visa: 4539-5787-6362-1486", "card", "4539-5787-6362-1486"),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "iban", "DE89 3704 0044 0532 0130 00"),
        ("pay GB29NWBK60161331926819 today", "iban", "GB29NWBK60161331926819"),
        ("SSN: 536-90-4399", "ssn", "536-90-4399"),
        ("from 81.2.69.160 at noon", "ipv4", "81.2.69.160"),
        ("John Smith, born on 12 March 1985, lives here", "dob", "born on 12 March 1985"),
        ("Passport No: K1234567", "passport", "Passport No: K1234567"),
        ("ship to 1600 Pennsylvania Avenue today", "address", "1600 Pennsylvania Avenue"),
    ],
)
def test_detects_with_exact_span(text: str, kind: str, value: str) -> None:
    """Each PII kind is found and its span is exactly the value in the original text."""
    assert kinds(text).get(kind) == value


@pytest.mark.parametrize(
    "text",
    [
        "request id 550e8400-e29b-41d4-a716-446655440000",
        "commit 3f786850e387550fdab836ed7e6dc881de23001b merged",
        "version 10.2.3.4 released on 2024-01-15",
        "4111 1111 1111 1112 fails Luhn",
        "IBAN DE89 3704 0044 0532 0130 01 has a bad checksum",
        "SSN 000-12-3456 is invalid",
        "Total: 1234567 units in 2023",
    ],
)
def test_hard_negatives_are_not_acted_on(text: str) -> None:
    """UUIDs, SHAs, versions, dates and invalid numbers are not redacted."""
    for f in make(PII).run(subject(text, Channel.MODEL_OUTPUT)):
        assert f.score < 0.7, f.message


def test_order_id_that_passes_luhn_stays_below_low() -> None:
    """A 16-digit order id that happens to pass Luhn is scored below the low band."""
    text = "Your order #4539578763621486 has shipped."
    findings = make(PII).run(subject(text, Channel.MODEL_OUTPUT))
    assert all(f.score < 0.5 for f in findings)


def test_validators() -> None:
    """Luhn and IBAN mod-97 validators accept good and reject bad numbers."""
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert iban_ok("GB29 NWBK 6016 1331 9268 19")
    assert not iban_ok("GB29 NWBK 6016 1331 9268 18")


def test_output_redaction_round_trip(shield: Shield) -> None:
    """Model output with PII is redacted: labels replace exactly the spans."""
    text = "Reach Jane at jane@example.com or +1 415-555-0132; card 4111 1111 1111 1111."
    d = shield.check_output(text)
    assert d.action is Action.REDACT
    assert d.redacted == "Reach Jane at [EMAIL] or [PHONE]; card [CARD]."


def test_redaction_after_normalisation(shield: Shield) -> None:
    """A zero-width-split e-mail is redacted whole, invisible character included."""
    d = shield.check_output("mail jo\u200bhn@example.com now")
    assert d.redacted == "mail [EMAIL] now"


def test_user_input_pii_is_flagged_not_blocked(shield: Shield) -> None:
    """PII in the user's own input is allowed with findings (the agent needs it for the task)."""
    d = shield.check_input("Email the invoice to jane@example.com please")
    assert d.action is Action.ALLOW
    assert d.flagged
    assert d.findings[0].category == "pii"


def test_mask_and_hash_modes() -> None:
    """Mask keeps the last four digits; hash gives a stable label with a digest."""
    text = "card 4111 1111 1111 1111"
    masked = make(PII, mode="mask").run(subject(text, Channel.MODEL_OUTPUT))[0].redact_label
    assert masked is not None
    assert masked.endswith("1111")
    assert masked.startswith("*")
    h1 = make(PII, mode="hash").run(subject(text, Channel.MODEL_OUTPUT))[0].redact_label
    h2 = make(PII, mode="hash").run(subject(text, Channel.MODEL_OUTPUT))[0].redact_label
    assert h1 == h2
    assert h1 is not None
    assert h1.startswith("[CARD:")


def test_kinds_option_limits_detection() -> None:
    """``kinds`` restricts which PII types are reported."""
    found = kinds("jane@example.com, +1 415-555-0132", kinds=["email"])
    assert set(found) == {"email"}


def test_redact_channels_option_redacts_input() -> None:
    """A policy can redact user input instead of flagging it."""
    s = Shield.from_policy({"checks": [{"id": "pii.detect", "action": "redact", "bands": {"low": 0.5, "high": 0.7},
                                        "options": {"redact_channels": ["user_input", "model_output"]}}]})
    d = s.check_input("my email is jane@example.com")
    assert d.action is Action.REDACT
    assert d.redacted == "my email is [EMAIL]"


def test_card_in_external_tool_args_needs_approval() -> None:
    """A card number in the arguments of an outward tool needs approval; e-mail recipients do not."""
    s = Shield.from_policy({"tools": {"send_email": {"side_effect": "external"}}})
    d = s.check_tool_call("send_email", {"to": "bob@example.com", "body": "card 4111 1111 1111 1111"})
    assert d.action is Action.REQUIRE_APPROVAL
    d2 = s.check_tool_call("send_email", {"to": "bob@example.com", "body": "see you"})
    assert d2.action is Action.ALLOW


def test_an_address_after_an_escaped_line_break_is_redacted_without_the_escape() -> None:
    """An answer that is JSON text: ``\\n`` before an address was read as part of it (``nbob@…``), and the
    redaction ate the escape's letter, leaving ``\\[EMAIL]``, which is not JSON."""
    import json

    from airs_plugins import Shield

    answer = json.dumps({"note": "call\nbob@example.com please"})
    d = Shield.default().check_output(answer)
    assert d.action.value == "redact" and d.redacted is not None
    assert json.loads(d.redacted) == {"note": "call\n[EMAIL] please"}
