"""Secrets: well-known credential formats plus high-entropy values in assignment context (MASO IA-2.6).

Known formats (AWS, GitHub, GitLab, Slack, Stripe, OpenAI/Anthropic, Google, JWT, PEM private keys,
credentials in URLs/DSNs…) score high on their own. Generic ``key = value`` assignments count only
when the value looks random (Shannon entropy, mixed character classes) and is not a placeholder, a
UUID, a hex digest (git SHA, SHA-256) or a variable reference, which keeps false positives low.

Default actions: ``block`` on model output and on calls to tools whose side effect reaches outside
(a secret leaving the system cannot be recalled); ``redact`` in user input, tool results and
retrieved text (the secret is removed before the model sees it); internal tool calls are flagged.
"""

from __future__ import annotations

import base64
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from .._decision import Action, Channel, Finding, Severity, Subject
from .._policy import CheckConfig, Policy
from ._base import ALL_TEXT_CHANNELS, BaseCheck, quoted
from ._regex import PatternSet
from ._registry import register_check
from ._textprep import text_views

_PEM_BEGIN = r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP |SSH2 )?PRIVATE KEY(?: BLOCK)?-----"
# the key's body: base64 lines and ``Proc-Type:`` headers, their line breaks written as they are or, in a key
# serialised into JSON or YAML, as ``\n`` escapes. Without an END line (cut off by a size limit, pasted in
# part) the body still runs to its last base64 line, so a redaction leaves none of the key behind.
_PEM_BODY = r"[A-Za-z0-9+/=\s:\-,\\]"
_PEM_LINE = r"(?:[A-Za-z0-9+/=]{16,}|(?:Proc-Type|DEK-Info|Comment):[^\r\n\\]{1,80})"
_KNOWN: tuple[tuple[str, str, float], ...] = (
    ("aws_access_key_id", r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA)[0-9A-Z]{16}\b", 0.9),
    ("aws_secret_key", r"(?i)aws.{0,24}(?:secret|private)[a-z_ \-]{0,16}[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+]{40}\b",
     0.95),
    ("github_token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b", 0.95),
    ("github_pat", r"\bgithub_pat_[A-Za-z0-9_]{60,}\b", 0.95),
    ("gitlab_token", r"\bglpat-[A-Za-z0-9_\-]{20,}\b", 0.95),
    ("slack_token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}", 0.9),
    ("slack_webhook", r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]{6,}/B[A-Za-z0-9_]{6,}/[A-Za-z0-9_]{16,}",
     0.9),
    ("stripe_key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b", 0.95),
    ("openai_key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,}\b", 0.85),
    ("anthropic_key", r"\bsk-ant-[a-z0-9]{2,10}-[A-Za-z0-9_\-]{60,}", 0.95),
    ("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}\b", 0.9),
    ("sendgrid_key", r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b", 0.95),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b", 0.9),
    ("pypi_token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}", 0.95),
    ("huggingface_token", r"\bhf_[A-Za-z]{34,40}\b", 0.85),
    ("twilio_key", r"\bSK[0-9a-f]{32}\b", 0.6),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", 0.85),
    ("private_key", _PEM_BEGIN + rf"(?:{_PEM_BODY}*?-----END [A-Z ]{{0,20}}PRIVATE KEY(?: BLOCK)?-----|"
                    rf"(?:(?:\s|\\[rn])*{_PEM_LINE})*)", 0.99),
    ("url_credentials", r"\b[a-z][a-z0-9+.\-]{1,15}://[^\s:/@\"'<>]{1,64}:[^\s@/\"'<>]+@[^\s/\"'<>]+",
     0.85),
)
_GENERIC = ("assignment", r"(?i)(?:api[_\-]?key|apikey|secret|token|passw(?:or)?d|passwd|pwd|access[_\-]?key|"
                          r"auth[_\-]?key|credential|private[_\-]?key|client[_\-]?secret|bearer)[A-Za-z0-9_\-]{0,20}"
                          r"[\"']?\s*(?::|=|=>|:=)\s*[\"']?[A-Za-z0-9+/_\-.~!@#$%^&*]{8,}|(?i)\bbearer\s+"
                          r"[A-Za-z0-9+/_\-.~]{16,}")
_PLACEHOLDERS = ("xxx", "***", "your", "example", "changeme", "placeholder", "dummy", "redacted", "<", "${",
                 "{{", "env", "process.", "os.", "getenv", "secret_", "none", "null", "true", "false", "password",
                 "token", "....")
_SEP_CHARS = ":= \"'>"


def shannon(s: str) -> float:
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def _classes(s: str) -> int:
    return sum((any(c.islower() for c in s), any(c.isupper() for c in s), any(c.isdigit() for c in s),
                any(not c.isalnum() for c in s)))


def _is_hex(s: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in s)


def _is_uuid(s: str) -> bool:
    parts = s.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(_is_hex(p) for p in parts)


def generic_value_score(value: str) -> float | None:
    """Score a value assigned to a secret-like name; None when it is clearly not a secret."""
    v = value.strip("\"'`,;)")
    low = v.lower()
    if len(v) < 8 or any(p in low for p in _PLACEHOLDERS):
        return None
    if _is_uuid(v):
        return 0.4
    if _is_hex(v) and len(v) in (32, 40, 56, 64, 96, 128):
        return 0.45  # digests and git SHAs: recorded, not acted on
    if v.replace("_", "").replace(".", "").isalpha() and (v.islower() or v.isupper()):
        return None  # identifiers such as API_TOKEN_NAME
    ent = shannon(v)
    classes = _classes(v)
    if len(v) >= 16 and ent >= 3.5 and classes >= 2:
        return 0.85
    if len(v) >= 12 and ent >= 3.0 and classes >= 3:
        return 0.7
    if classes >= 2 and ent >= 2.5:
        return 0.55
    return None


def _jwt_ok(token: str) -> bool:
    head = token.split(".", 1)[0]
    try:
        data = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, TypeError):
        return False
    return isinstance(data, dict) and ("alg" in data or "typ" in data)


@dataclass(frozen=True)
class SecretMatch:
    kind: str
    span: tuple[int, int]
    score: float


class SecretScanner:
    """Candidates → validated, scored secrets; shared with the tool-rules and output checks."""

    _set: PatternSet | None = None
    _scores: ClassVar[dict[str, float]] = {k: s for k, _p, s in _KNOWN}

    def __init__(self) -> None:
        if SecretScanner._set is None:
            SecretScanner._set = PatternSet([(k, p) for k, p, _s in _KNOWN] + [_GENERIC], case_sensitive=True)
        self.set = SecretScanner._set

    def scan(self, subject: Subject) -> list[SecretMatch]:
        found: dict[tuple[int, int], SecretMatch] = {}
        for h in self.set.hits(text_views(subject.text)):
            if h.key == "assignment":
                value = h.text
                if not value.lower().startswith("bearer"):
                    cut = max(value.rfind(c) for c in ":=") + 1
                    value = value[cut:]
                else:
                    value = value[6:].strip()
                score = generic_value_score(value.strip(_SEP_CHARS))
                if score is None:
                    continue
                if h.view.span_of_origin is None:
                    vs = h.text.rfind(value.strip(_SEP_CHARS))
                    span = h.view.to_original(h.start + max(vs, 0), h.end)
                else:
                    span = h.span
            else:
                score = self._scores[h.key]
                if h.key == "jwt" and not _jwt_ok(h.text):
                    continue
                if h.key == "url_credentials" and generic_value_score(h.text.split("://", 1)[1].split(":", 1)[1]
                                                                      .split("@", 1)[0] + "xx") is None:
                    continue
                span = h.span
            prev = found.get(span)
            if prev is None or prev.score < score:
                found[span] = SecretMatch(h.key, span, score)
        matches = sorted(found.values(), key=lambda m: (-m.score, m.span))
        kept: list[SecretMatch] = []
        for m in matches:
            if not any(m.span[0] < k.span[1] and k.span[0] < m.span[1] for k in kept):
                kept.append(m)
        return sorted(kept, key=lambda m: m.span)


@register_check("secrets.detect")
class SecretsCheck(BaseCheck):
    """Credentials in any text channel and in tool-call arguments.

    Options: ``block_channels`` (default model_output), ``label`` (default ``[SECRET]``).
    """

    id = "secrets.detect"
    channels = ALL_TEXT_CHANNELS | {Channel.TOOL_CALL}
    maso = ("IA-2.6", "DP-2.1")
    attack_categories = frozenset()
    option_defaults: ClassVar[Mapping[str, Any]] = {"block_channels": ["model_output"], "label": "[SECRET]"}

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        self.block_channels = frozenset(Channel(c) for c in self.options["block_channels"])
        self.label = str(self.options["label"])
        self.scanner = SecretScanner()

    def run(self, subject: Subject) -> Sequence[Finding]:
        matches = self.scanner.scan(subject)
        if not matches:
            return []
        action: Action | None = None
        where = subject.channel.value
        if subject.channel is Channel.TOOL_CALL:
            side = subject.side_effect or self.policy.tool(subject.tool_name or "").side_effect
            action = Action.BLOCK if side.reaches_outside else Action.ALLOW
            where = f"arguments of {side.value} tool {quoted(subject.tool_name or '')}"
        elif subject.channel in self.block_channels:
            action = Action.BLOCK
        return [self.finding(
            "secret", score=m.score, severity=Severity.CRITICAL if m.score >= 0.9 else Severity.HIGH,
            spans=[m.span], action=action, redact_label=self.label,
            message=f"{m.kind.replace('_', ' ')} in {where}") for m in matches]
