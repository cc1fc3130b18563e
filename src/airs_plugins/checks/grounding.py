"""``output.grounding``: specifics in an answer that nothing the run read supports (MASO PG-2.5).

A model that fills a gap in what its tools returned tends to fill it with something that looks exact: a
link, an e-mail address, a phone or account number, an IBAN. Those are the hallucinations users act on
(they click, call, pay), and they are cheap to check without a model: the run's context already holds
the salient values of everything it read (``Observation.values``, recorded for argument-level taint).
A value of the answer that is in none of them, nor in the user's words, the system prompt (when the
adapter passes it) or the policy's ``known_values``, is *ungrounded*.

Scored uncertain by default (0.6): the judge, if one is attached, grades it; without one the tier's
fail mode applies (``flag`` for model output: the answer goes out and the finding is in the audit). The
model may know a link from training, or have composed an address itself; the check cannot tell, so it
never blocks on its own. Raise ``score`` over the ``high`` band to act on it with the configured action
(the default policy's entry says ``require_approval``; ``redact`` replaces each ungrounded value with
``[UNVERIFIED]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar

from .._decision import Channel, Finding, Observation, Severity, Subject
from .._policy import CheckConfig, Policy
from .._taint import extract_values, normalise, values_with_kinds
from ._base import BaseCheck
from ._registry import register_check
from ._urls import domain_match, url_host

_DEFAULT_KINDS = ("email", "url", "iban", "number")
"""Bare domain names are left out: a model names well-known sites from training, and a domain alone
sends nobody anywhere specific."""
_MAX_VALUES = 64
_MIN_DIGITS = 7
_MIN_SPECIFIC_DIGITS = 8
_RANGE = re.compile(r"([0-9]{1,9}) ?[-\u2013] ?([0-9]{1,9})")  # bounded classes only: linear
_EVIDENCE_CHARS = 65536


@lru_cache(maxsize=64)
def _values_in(text: str) -> frozenset[str]:
    """Salient values of a text the run keeps whole (the user's words, the system prompt)."""
    return frozenset(_variants(v) for v in extract_values(text[:_EVIDENCE_CHARS], limit=4096))


def _variants(value: str) -> str:
    """One spelling for a value however it was written: ``+44 20…`` and ``44 20…`` are the same number."""
    return value.lstrip("+")


def _specific_number(raw: str) -> bool:
    """A digit run that names one thing: a phone, account or order number. The extractor also joins what an
    answer lays out ("500-1000" a price range, "463820 2." a code and the next list item), which taint can
    afford (it only compares) and grounding cannot (each would be "invented"): eight digits at least, or an
    international prefix, and not a range (two groups, the first below the second, no leading zero)."""
    text = raw.strip()
    digits = sum(ch.isdigit() for ch in text)
    if digits < _MIN_SPECIFIC_DIGITS and not text.startswith("+"):
        return False
    m = _RANGE.fullmatch(text)
    return not (m and not m[1].startswith("0") and not m[2].startswith("0") and int(m[1]) < int(m[2]))


def _same_number(digits: str, known: Sequence[str]) -> bool:
    """A phone number written with and without its prefix: ``(555) 013-7788`` leaves ``013-7788`` to the
    extractor (a bracket ends a digit run), ``+1 555 013 7788`` is whole. One ending the other, over the
    extractor's minimum of seven digits, is the same number."""
    return digits.isdigit() and any(
        min(len(digits), len(k)) >= _MIN_DIGITS and (digits.endswith(k) or k.endswith(digits)) for k in known)


def _outermost(spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans not inside another (``www.x.org/a`` is found again inside ``https://www.x.org/a``)."""
    return sorted(s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans))


def _host_of(raw: str, kind: str) -> str:
    if kind == "email":
        return raw.rsplit("@", 1)[-1].lower()
    return url_host(raw if "://" in raw else "http://" + raw)


@register_check("output.grounding")
class Grounding(BaseCheck):
    """Links, addresses and numbers in the answer that appear in nothing the run read.

    Options: ``kinds`` (which values count: ``email``, ``url``, ``iban``, ``number``, ``domain``; default
    all but ``domain``), ``known_values`` (values the agent may always give: the support line, the company's
    own site), ``allowed_hosts`` (links and addresses on these hosts and their subdomains count as known),
    ``require_evidence`` (default true: only runs that read something, a tool result or a document, are
    checked; an agent without tools answers from what the model knows, and there is nothing to ground it
    in), ``score`` (default 0.6, the uncertain band).
    """

    id = "output.grounding"
    channels = frozenset({Channel.MODEL_OUTPUT})
    maso = ("PG-2.5",)
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "kinds": list(_DEFAULT_KINDS),
        "known_values": [],
        "allowed_hosts": [],
        "require_evidence": True,
        "score": 0.6,
    }

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        self.kinds = frozenset(self.options["kinds"])
        self.known = frozenset(_variants(normalise(str(v))) for v in self.options["known_values"])
        self.allowed_hosts = tuple(h.lower().lstrip(".") for h in self.options["allowed_hosts"])
        self.require_evidence = bool(self.options["require_evidence"])
        self.score = float(self.options["score"])

    def run(self, subject: Subject) -> Sequence[Finding]:
        if subject.interim:  # narration next to tool calls: the answer comes later
            return []
        ctx = subject.context
        observations = ctx.observations
        if self.require_evidence and not observations:
            return []
        if self._incomplete(observations):
            return []
        claimed = self._claimed(subject.payload[:subject.max_scan_bytes])
        if not claimed:
            return []
        evidence: set[str] = set().union(*(o.values for o in observations))
        evidence.update(_variants(v) for v in list(evidence) if v.startswith("+"))
        if ctx.user_goal:
            evidence |= _values_in(ctx.user_goal)
        if subject.instructions:
            evidence |= _values_in(subject.instructions)
        evidence |= self.known
        numbers = [v for v in evidence if v.isdigit()]
        ungrounded = [(span, value, kind) for span, value, kind in claimed
                      if value not in evidence and not (kind == "number" and _same_number(value, numbers))]
        if not ungrounded:
            return []
        kinds = sorted({kind for _span, _value, kind in ungrounded})
        n = len({value for _span, value, _kind in ungrounded})
        return [self.finding(
            "ungrounded", score=self.score, severity=Severity.MEDIUM, spans=_outermost({u[0] for u in ungrounded}),
            redact_label="[UNVERIFIED]",
            message=(f"the answer gives {n} specific value{'s' if n != 1 else ''} "
                     f"({', '.join(kinds)}) found in nothing this run read: tool results, documents, the "
                     "user's words, the system prompt"))]

    @staticmethod
    def _incomplete(observations: Sequence[Observation]) -> bool:
        """The run's record of what it read may have dropped something: an absent value proves nothing."""
        return not all(o.values_complete for o in observations)

    def _claimed(self, text: str) -> list[tuple[tuple[int, int], str, str]]:
        out: list[tuple[tuple[int, int], str, str]] = []
        for start, end, raw, kind in values_with_kinds(text):
            if kind not in self.kinds:
                continue
            value = normalise(raw)
            if len(value) < 5 or (kind == "number" and not _specific_number(raw)):
                continue
            if self.allowed_hosts and kind in ("url", "email", "domain") and self._allowed(_host_of(raw, kind)):
                continue
            out.append(((start, end), _variants(value), kind))
            if len(out) >= _MAX_VALUES:
                break
        return out

    def _allowed(self, host: str) -> bool:
        return bool(host) and domain_match(host, self.allowed_hosts)
