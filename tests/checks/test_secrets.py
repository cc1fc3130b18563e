"""secrets.detect: known formats, generic high-entropy assignments, low false positives, channel actions."""

from __future__ import annotations

import base64

import pytest

from airs_plugins import Action, Channel, Shield

from .conftest import make, subject

SEC = "secrets.detect"

POSITIVES = [
    ("AKIAIOSFODNN7EXAMPLE", "aws access key id"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws secret key"),
    ("ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "github token"),
    ("glpat-Ab12Cd34Ef56Gh78Ij90", "gitlab token"),
    ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack token"),
    ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe key"),
    ("sk-proj-abcDEF1234567890abcDEF1234567890abcd", "openai key"),
    ("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "google api key"),
    ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "jwt"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\n-----END RSA PRIVATE KEY-----", "private key"),
    ("postgres://admin:S3cr3tP4ss@db.internal:5432/app", "url credentials"),
    ("client_secret: 'Zx8kQ2mP9vL4nR7tW1yB3cF6'", "assignment"),
]


@pytest.mark.parametrize(("text", "kind"), POSITIVES)
def test_known_formats(text: str, kind: str) -> None:
    """Each well-known credential format is found with a decisive score."""
    findings = make(SEC).run(subject(f"config: {text} end", Channel.USER_INPUT))
    assert findings
    assert findings[0].message.startswith(kind)
    assert findings[0].score >= 0.8


NEGATIVES = [
    "id = 550e8400-e29b-41d4-a716-446655440000",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "token = os.environ['API_TOKEN']",
    "password = '<your-password-here>'",
    "postgres://user:password@localhost/db",
    "api_key: ${API_KEY}",
    "data: " + base64.b64encode(b"The quick brown fox jumps over the lazy dog, twice.").decode(),
    "The secret to good bread is patience and a hot oven.",
    "pk_live_51H8abcdefGHIJKLMnop is a publishable key",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_low_false_positives(text: str) -> None:
    """UUIDs, hashes, env references, placeholders and ordinary base64 are not acted on."""
    for f in make(SEC).run(subject(text, Channel.USER_INPUT)):
        assert f.score < 0.5, f.message


def test_span_is_the_value_only() -> None:
    """In an assignment only the value is redacted, not the name."""
    text = "API_KEY=Zx8kQ2mP9vL4nR7tW1yB3cF6 rest"
    f = make(SEC).run(subject(text, Channel.USER_INPUT))[0]
    s, e = f.spans[0]
    assert text[s:e] == "Zx8kQ2mP9vL4nR7tW1yB3cF6"


def test_secret_in_base64_segment() -> None:
    """A secret inside a base64-encoded blob is found; the span is the encoded region."""
    blob = base64.b64encode(b"export GITHUB_TOKEN ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 now ok").decode()
    text = f"env: {blob}"
    f = make(SEC).run(subject(text, Channel.USER_INPUT))[0]
    s, e = f.spans[0]
    assert text[s:e] == blob


def test_output_blocks_and_input_redacts(shield: Shield) -> None:
    """A secret in model output blocks; in user input it is redacted."""
    secret = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
    assert shield.check_output(f"use {secret}").action is Action.BLOCK
    d = shield.check_input(f"my token is {secret}")
    assert d.action is Action.REDACT
    assert d.redacted == "my token is [SECRET]"


def test_tool_result_secret_is_redacted(shield: Shield) -> None:
    """A secret in a tool result is redacted before the model sees it."""
    d = shield.check_tool_result("read_file", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n")
    assert d.action is Action.REDACT
    assert d.redacted == "AWS_ACCESS_KEY_ID=[SECRET]\n"


def test_external_tool_call_with_secret_blocks_internal_is_flagged() -> None:
    """Secrets leaving through an external tool are blocked; an internal write is only flagged."""
    s = Shield.from_policy({"tools": {"post": {"side_effect": "external"}, "save": {"side_effect": "write"}}})
    secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    assert s.check_tool_call("post", {"body": secret}).action is Action.BLOCK
    d = s.check_tool_call("save", {"body": secret})
    assert d.action is Action.ALLOW
    assert d.flagged


_KEY_LINES = ["MIIEowIBAAKCAQEAx4fJ0q3mT9vLpQ2rS8wYzA1bC2dE3fG4hI5jK6lM7nO8pQ9r",
              "sT0uV1wX2yZ3aB4cD5eF6gH7iJ8kL9mN0oP1qR2sT3uV4wX5yZ6aB7cD8eF9gH0"]


@pytest.mark.parametrize(("text", "tail"), [
    # serialised into JSON: the line breaks are ``\n`` escapes
    ('{"key": "-----BEGIN RSA PRIVATE KEY-----\\n' + "\\n".join(_KEY_LINES)
     + '\\n-----END RSA PRIVATE KEY-----\\n"}', '\\n"}'),
    # cut off before its END line (a tool's output limit)
    ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(_KEY_LINES) + "\n[output truncated]", "\n[output truncated]"),
])
def test_private_key_body_is_redacted_whole(shield: Shield, text: str, tail: str) -> None:
    """A private key's body is redacted with its BEGIN line, escaped or cut short: none of the key is left."""
    d = shield.check_tool_result("read_file", text)
    assert d.action is Action.REDACT
    assert d.redacted is not None
    assert d.redacted.endswith("[SECRET]" + tail)
    assert not any(line[:16] in d.redacted for line in _KEY_LINES)


def test_private_key_header_in_prose_does_not_swallow_the_sentence(shield: Shield) -> None:
    """Without a key body, only the BEGIN line is redacted, not the words after it."""
    d = shield.check_input("A PEM file starts with -----BEGIN PRIVATE KEY----- and then the base64 body follows.")
    assert d.redacted == "A PEM file starts with [SECRET] and then the base64 body follows."


def test_secret_written_as_unicode_escapes_is_blocked_and_redacted_whole(shield: Shield) -> None:
    """A key the model was told to write as ``\\u`` escapes is still the key: output blocks, input redacts it all."""
    secret = "AKIAIOSFODNN7EXAMPLF"
    escaped = "".join(f"\\u{ord(c):04x}" for c in secret[:4]) + secret[4:]
    assert shield.check_output(f'{{"id": "{escaped}"}}').action is Action.BLOCK
    d = shield.check_input(f'{{"id": "{escaped}"}}')
    assert d.redacted == '{"id": "[SECRET]"}'



class TestEscapedArguments:
    """A tool call's arguments are scanned as their canonical JSON, where a newline is ``\\n``: the ``n`` glued
    to the key that followed it took its word boundary, and a key on a line of its own went unseen."""

    @pytest.mark.parametrize("sep", ["\n", "\t", "\r\n", " "])
    def test_a_key_after_a_line_break_in_the_arguments_is_found(self, sep: str) -> None:
        from airs_plugins._canonical import canonical_args

        args = {"to": "bob@example.com", "body": f"Here it is:{sep}AKIAIOSFODNN7EXAMPLE"}
        d = Shield.default().check_tool_call("send_email", args)
        found = [f for f in d.findings if f.check == "secrets.detect"]
        assert d.action.value == "block" and len(found) == 1
        (start, end), = found[0].spans
        assert canonical_args(args)[start:end] == "AKIAIOSFODNN7EXAMPLE"
