"""PII detection with validators, and redaction by label, mask or hash (MASO DP-2.1).

One RE2 set finds candidates; each candidate is validated (Luhn for cards, mod-97 for IBANs, SSN
area/group rules, ``ipaddress`` for IPs, digit counts for phones) and scored with nearby context
words ("card", "order #"…). Spans index the original payload, so ``Decision.redacted`` is the payload
with each span replaced.

Per channel (option ``redact_channels``): model output is redacted; the user's own input, tool results and
retrieved documents (every text channel not listed) are flagged (allowed with findings: the agent usually
needs the addresses it is asked to work with); card numbers and SSNs in the arguments of a tool whose
side effect reaches outside need approval.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from .._decision import Action, Channel, Finding, Severity, Subject
from .._policy import CheckConfig, Policy
from ._base import ALL_TEXT_CHANNELS, BaseCheck, quoted
from ._regex import PatternSet, compile_re2
from ._registry import register_check
from ._textprep import text_views

LABELS = {
    "email": "[EMAIL]", "phone": "[PHONE]", "card": "[CARD]", "iban": "[IBAN]", "ssn": "[SSN]",
    "ipv4": "[IP]", "ipv6": "[IP]", "dob": "[DOB]", "passport": "[PASSPORT]", "address": "[ADDRESS]",
}
_SENSITIVE_FOR_TOOLS = frozenset({"card", "ssn", "passport"})

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("email", r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"),
    ("phone_intl", r"\+[1-9][0-9]{0,3}[ .\-]?(?:\(?[0-9]{1,4}\)?[ .\-]?){1,5}[0-9]{2,4}\b"),
    ("phone_us", r"(?:\([2-9][0-9]{2}\)\s?|\b[2-9][0-9]{2}[ .\-])[2-9][0-9]{2}[ .\-][0-9]{4}\b"),
    ("phone_eu", r"\b0[1-9][0-9]{1,4}(?:[ /\-][0-9]{2,8}){1,3}\b|\b0[1-9](?:[ .][0-9]{2}){4}\b"),
    ("card", r"\b[0-9](?:[ \-]?[0-9]){12,18}\b"),
    ("iban", r"\b[A-Z]{2}[0-9]{2}[ ]?(?:[A-Z0-9]{4}[ ]?){2,7}[A-Z0-9]{1,4}\b"),
    ("ssn", r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b"),
    ("ipv4", r"\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|"
             r"[1-9]?[0-9])\b"),
    ("ipv6", r"(?:\b[0-9A-Fa-f]{1,4}:){2,7}(?::|(?::[0-9A-Fa-f]{1,4}){1,6}|[0-9A-Fa-f]{1,4})"),
    ("dob", r"(?i)\b(?:born(?:\s+on)?|birth\s*date|date\s+of\s+birth|d\.?o\.?b\.?|birthday|geboren(?:\s+am)?|"
            r"ne\s+le|nee\s+le|nacido\s+el|fecha\s+de\s+nacimiento)\s*[:\-]?\s*(?:[0-9]{1,4}[./\-][0-9]{1,2}[./\-]"
            r"[0-9]{2,4}|[0-9]{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+[0-9]{4}|[A-Za-z]{3,9}\.?\s+[0-9]{1,2}"
            r"(?:st|nd|rd|th)?,?\s+[0-9]{4})"),
    ("passport", r"(?i)\bpassport\s*(?:no\.?|number|num|#|id)?\s*[:#]?\s*[A-Z0-9]{6,9}\b"),
    ("address", r"\b[0-9]{1,5}\s+(?:[A-Z][a-z]+\.?\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|"
                r"Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Square|Sq)\b\.?"),
)

_CARD_POS = compile_re2(r"(?i)(?:card|visa|master\s?card|amex|american\s+express|discover|cc\b|credit|debit|"
                        r"payment|pan\b|kreditkarte|carte)")
_CARD_NEG = compile_re2(r"(?i)(?:order|invoice|tracking|ref(?:erence)?|ticket|id\b|#|no\.|number\s+of|"
                        r"account\s+id|sku|serial|isbn|upc|ean|transaction\s+id|confirmation)")
_PHONE_POS = compile_re2(r"(?i)(?:phone|tel\b|telephone|mobile|cell|call|fax|whatsapp|sms|text\s+me|contact|"
                         r"telefon|handy|portable|tel[eé]fono)")
_SSN_POS = compile_re2(r"(?i)(?:ssn|social\s+security|tax\s+id|tin\b)")

_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AT": 20, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CY": 28,
    "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GI": 23,
    "GL": 18, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30,
    "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15,
    "PL": 28, "PT": 25, "QA": 29, "RO": 24, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26,
    "UA": 29,
}


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    n = len(digits)
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if n == 16 and (51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720):
        return "mastercard"
    if n == 15 and digits[:2] in ("34", "37"):
        return "amex"
    if n in (16, 19) and (digits.startswith("6011") or digits.startswith("65") or 644 <= int(digits[:3]) <= 649):
        return "discover"
    if n in (16, 19) and 3528 <= int(digits[:4]) <= 3589:
        return "jcb"
    if n == 14 and digits[:2] in ("36", "38", "30"):
        return "diners"
    return None


def iban_ok(value: str) -> bool:
    v = value.replace(" ", "").upper()
    expected = _IBAN_LENGTHS.get(v[:2])
    if expected is None or len(v) != expected:
        return False
    rearranged = v[4:] + v[:4]
    try:
        number = int("".join(str(int(c, 36)) for c in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def ssn_ok(value: str) -> bool:
    area, group, serial = value.split("-")
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


@dataclass(frozen=True)
class PiiMatch:
    kind: str
    span: tuple[int, int]
    score: float
    note: str = ""


def _context(text: str, start: int, end: int, width: int = 32) -> str:
    return text[max(0, start - width):start] + " " + text[end:end + 12]


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


class PiiScanner:
    """Candidates → validated, scored matches. Shared by ``pii.detect`` and ``tool.rules``."""

    _set: PatternSet | None = None

    def __init__(self) -> None:
        if PiiScanner._set is None:
            PiiScanner._set = PatternSet(_PATTERNS, case_sensitive=True)
        self.set = PiiScanner._set

    def scan(self, subject: Subject, kinds: frozenset[str] | None = None) -> list[PiiMatch]:
        out: dict[tuple[int, int], PiiMatch] = {}
        original = subject.text.original
        for h in self.set.hits(text_views(subject.text)):
            kind = h.key.split("_")[0]
            if kinds is not None and kind not in kinds:
                continue
            ctx = _context(h.view.text, h.start, h.end)
            score = self._validate(kind, h.text, ctx)
            if score is None or h.span[1] <= h.span[0] or h.span[1] > len(original):
                continue
            prev = out.get(h.span)
            if prev is None or prev.score < score:
                out[h.span] = PiiMatch(kind, h.span, score)
        return _drop_nested(list(out.values()))

    @staticmethod
    def _validate(kind: str, text: str, ctx: str) -> float | None:
        if kind == "email":
            local, _, domain = text.rpartition("@")
            if not local or domain.split(".")[-1].isdigit() or local.startswith("."):
                return None
            return 0.9
        if kind == "phone":
            digits = _digits(text)
            if not 7 <= len(digits) <= 15 or len(set(digits)) <= 2:
                return None
            if text.count("-") == 2 and len(digits) == 8:
                return None  # dates such as 2024-01-15
            base = 0.75 if text.startswith("+") or "(" in text else 0.6
            return 0.9 if _PHONE_POS.search(ctx) else base
        if kind == "card":
            digits = _digits(text)
            if not 13 <= len(digits) <= 19 or not luhn_ok(digits) or len(set(digits)) <= 1:
                return None
            brand = card_brand(digits)
            if _CARD_POS.search(ctx):
                return 0.95 if brand else 0.75
            if _CARD_NEG.search(ctx):
                return 0.35
            return 0.8 if brand else 0.4
        if kind == "iban":
            return 0.95 if iban_ok(text) else None
        if kind == "ssn":
            if not ssn_ok(text):
                return None
            return 0.95 if _SSN_POS.search(ctx) else 0.75
        if kind == "ipv4":
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                return None
            if _looks_like_version(ctx):
                return None
            return 0.3 if ip.is_private or ip.is_loopback or ip.is_reserved else 0.45
        if kind == "ipv6":
            try:
                ip6 = ipaddress.ip_address(text)
            except ValueError:
                return None
            return 0.3 if ip6.is_private or ip6.is_loopback else 0.45
        if kind in ("dob", "passport"):
            return 0.8
        if kind == "address":
            return 0.7
        return None


def _looks_like_version(ctx: str) -> bool:
    low = ctx.lower()
    return any(w in low for w in ("version", " v", "release", "==", ">=", "oid"))


def _drop_nested(matches: list[PiiMatch]) -> list[PiiMatch]:
    """Keep the best match where candidates overlap (a phone inside a card number, …)."""
    matches.sort(key=lambda m: (-m.score, m.span))
    kept: list[PiiMatch] = []
    for m in matches:
        if any(m.span[0] < k.span[1] and k.span[0] < m.span[1] for k in kept):
            continue
        kept.append(m)
    kept.sort(key=lambda m: m.span)
    return kept


def redaction_label(kind: str, value: str, mode: str, salt: str = "") -> str:
    label = LABELS.get(kind, f"[{kind.upper()}]")
    if mode == "mask":
        keep = 4 if kind in ("card", "iban", "phone") else 0
        return "*" * max(0, len(value) - keep) + (value[-keep:] if keep else "")
    if mode == "hash":
        digest = hashlib.sha256((salt + value).encode("utf-8", "surrogatepass")).hexdigest()[:10]
        return f"{label[:-1]}:{digest}]"
    return label


@register_check("pii.detect")
class PiiCheck(BaseCheck):
    """PII in text (and in tool-call arguments bound outside).

    Options: ``kinds`` (subset of email, phone, card, iban, ssn, ipv4, ipv6, dob, passport, address),
    ``mode`` (``label`` | ``mask`` | ``hash``), ``hash_salt``, ``redact_channels`` (default
    ``["model_output"]``), ``tool_kinds`` (kinds that need approval in outward tool calls).
    """

    id = "pii.detect"
    channels = ALL_TEXT_CHANNELS | {Channel.TOOL_CALL}
    maso = ("DP-2.1", "DP-1.3")
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "kinds": None,
        "mode": "label",
        "hash_salt": "",
        "redact_channels": ["model_output"],
        "tool_kinds": sorted(_SENSITIVE_FOR_TOOLS),
    }

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        kinds = self.options["kinds"]
        self.kinds = frozenset(kinds) if kinds else None
        self.mode = str(self.options["mode"])
        self.salt = str(self.options["hash_salt"])
        self.redact_channels = frozenset(Channel(c) for c in self.options["redact_channels"])
        self.tool_kinds = frozenset(self.options["tool_kinds"])
        self.low = config.bands.low
        self.scanner = PiiScanner()

    def run(self, subject: Subject) -> Sequence[Finding]:
        if subject.channel is Channel.TOOL_CALL:
            return self._tool_call(subject)
        matches = self.scanner.scan(subject, self.kinds)
        if not matches:
            return []
        redact = subject.channel in self.redact_channels
        out: list[Finding] = []
        original = subject.payload
        for m in matches:
            value = original[m.span[0]:m.span[1]]
            score = m.score
            if not redact and score < self.config.bands.high:
                # flag-only channels never ask the judge: an allow cannot become more certain
                score = min(score, max(0.0, self.low - 0.01))
            out.append(self.finding(
                "pii", score=score, severity=Severity.MEDIUM if m.score >= 0.7 else Severity.LOW,
                spans=[m.span], message=f"{m.kind} detected",
                action=None if redact else Action.ALLOW,
                redact_label=redaction_label(m.kind, value, self.mode, self.salt)))
        return out

    def _tool_call(self, subject: Subject) -> list[Finding]:
        side = subject.side_effect or self.policy.tool(subject.tool_name or "").side_effect
        if not side.reaches_outside:
            return []
        matches = [m for m in self.scanner.scan(subject, self.tool_kinds) if m.kind in self.tool_kinds]
        return [self.finding(
            "pii", score=m.score, severity=Severity.HIGH, spans=[m.span], action=Action.REQUIRE_APPROVAL,
            message=f"{m.kind} in the arguments of {side.value} tool {quoted(subject.tool_name or '')}",
            redact_label=LABELS.get(m.kind)) for m in matches]
