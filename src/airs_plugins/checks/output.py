"""Checks on what the model says (and, for canaries, on what it sends to tools).

* ``output.exfil`` - markdown/HTML images and links whose URLs carry data (query values, long
  encoded path segments, values read from untrusted content, PII/secrets), the zero-click
  exfiltration channel: an image is fetched as soon as the answer renders (MASO DP-2.1, PG-1.5).
* ``output.leakage`` - canary tokens planted by ``policy.canaries`` and system-prompt echoes
  (MASO PG-2.3, PG-1.2).
* ``output.schema`` - structured output against ``subject.output_schema`` or
  ``policy.output_schema`` (MASO EC-2.13, EC-1.8).
* ``output.banned`` - ``policy.banned_terms``, matched on the normalised and folded views, so
  homoglyphs and spacing do not evade them (MASO PG-1.5).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from .._canonical import canonical_json
from .._decision import Action, Channel, Finding, Severity, Subject
from .._policy import CheckConfig, Policy
from .._taint import extract_values, normalise
from ._base import BaseCheck
from ._recital import recital
from ._regex import PatternSet, compile_re2
from ._registry import register_check
from ._textprep import text_views
from ._urls import domain_match, url_host

# Only the starts of images/links are matched; the URL itself is cut from the text in Python, with a
# length cap, so a megabyte of "![](![](…" costs one linear scan and at most _MAX_URLS small parses.
_IMAGE_START = compile_re2(r"!\[[^\]\n]*\]\(\s*<?|<img\b[^>]*?\bsrc\s*=\s*[\"']?")
_LINK_START = compile_re2(r"\]\(\s*<?|\bhttps?://")
_REF_DEF = compile_re2(r"(?m)^\s{0,3}\[[^\]\n]+\]:\s*<?")
_REF_IMAGE = compile_re2(r"!\[[^\]\n]*\]\[[^\]\n]*\]")
_URL_END = re.compile(r"[\s)>\"']")  # a character class: linear, no backtracking
_MAX_URL = 2048
_MAX_URLS = 32
_ENCODED_SEGMENT = compile_re2(r"[A-Za-z0-9+/_=\-]{24,}")


def _url_at(text: str, start: int) -> str:
    chunk = text[start:start + _MAX_URL]
    m = _URL_END.search(chunk)
    return chunk[:m.start()] if m else chunk


@register_check("output.exfil")
class MarkdownExfil(BaseCheck):
    """Images/links in model output whose URLs carry data.

    Options: ``allowed_hosts`` (images from these hosts pass), ``links`` (also score plain links,
    default true), ``min_value_len`` (query values at least this long count as data, default 12).
    """

    id = "output.exfil"
    channels = frozenset({Channel.MODEL_OUTPUT})
    maso = ("DP-2.1", "PG-1.5")
    attack_categories = frozenset({"exfiltration"})
    option_defaults: ClassVar[Mapping[str, Any]] = {"allowed_hosts": [], "links": True, "min_value_len": 12}

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        self.allowed_hosts = [h.lower() for h in self.options["allowed_hosts"]]
        self.links = bool(self.options["links"])
        self.min_len = int(self.options["min_value_len"])

    def run(self, subject: Subject) -> Sequence[Finding]:
        text = subject.payload
        if "http" not in text and "//" not in text and "![" not in text:
            return []
        out: list[Finding] = []
        read: set[str] = set()
        for obs in subject.context.observations:
            read.update(obs.values)
        seen: set[int] = set()
        for count, m in enumerate(_IMAGE_START.finditer(text)):
            if count >= _MAX_URLS:
                break
            url = _url_at(text, m.end())
            end = m.end() + len(url)
            end += 1 if text[end:end + 1] in (")", ">", '"', "'") else 0
            seen.add(m.end())
            f = self._score_url(url, (m.start(), end), image=True, read=read)
            if f is not None:
                out.append(f)
        if _REF_IMAGE.search(text):
            for count, m in enumerate(_REF_DEF.finditer(text)):
                if count >= _MAX_URLS:
                    break
                url = _url_at(text, m.end())
                f = self._score_url(url, (m.end(), m.end() + len(url)), image=True, read=read)
                if f is not None:
                    out.append(f)
        if self.links:
            for count, m in enumerate(_LINK_START.finditer(text)):
                if count >= _MAX_URLS:
                    break
                start = m.end() if m.group(0).startswith("]") else m.start()
                if start in seen or m.end() in seen:
                    continue
                url = _url_at(text, start)
                f = self._score_url(url, (start, start + len(url)), image=False, read=read)
                if f is not None:
                    out.append(f)
        return out

    def _score_url(self, url: str, span: tuple[int, int], *, image: bool, read: set[str]) -> Finding | None:
        host = url_host(url)
        if not host or domain_match(host, self.allowed_hosts):
            return None
        try:
            parsed = urllib.parse.urlsplit(url)
        except ValueError:
            return None
        reasons: list[str] = []
        values = [v for _k, v in urllib.parse.parse_qsl(parsed.query, keep_blank_values=False)]
        if any(len(v) >= self.min_len for v in values):
            reasons.append("long query value")
        if _ENCODED_SEGMENT.search(parsed.path) or _ENCODED_SEGMENT.search(parsed.fragment):
            reasons.append("encoded data in the path")
        carried: set[str] = set()
        for v in [*values, parsed.path] if read else ():
            carried |= extract_values(urllib.parse.unquote(v))
            n = normalise(urllib.parse.unquote(v))
            if len(n) >= 5:
                carried.add(n)
        if carried & read:
            reasons.append("values read from untrusted content")
        if not reasons:
            return None
        strong = "values read from untrusted content" in reasons
        score = (0.95 if strong else 0.85) if image else (0.8 if strong else 0.55)
        kind = "image" if image else "link"
        return self.finding(
            "exfiltration", score=score, severity=Severity.HIGH if score >= 0.8 else Severity.MEDIUM,
            spans=[span], redact_label=f"[{kind.upper()} REMOVED]",
            message=f"markdown {kind} to {host!r} carries data ({', '.join(reasons)})")


_PROMPT_ECHO = (
    ("echo.my_prompt", r"\b(?:my|the)\s+(?:system\s+prompt|initial\s+instructions|original\s+instructions|hidden\s+"
                       r"instructions)\s+(?:is|are|says?|reads?|states?)\b"),
    ("echo.here_are", r"\b(?:here\s+(?:is|are)|below\s+(?:is|are))\s+(?:my|the)\s+(?:full\s+|complete\s+|exact\s+)?"
                      r"(?:system\s+prompt|initial\s+instructions|original\s+instructions|system\s+message)"),
    ("echo.i_was_told", r"\bi\s+(?:was|have\s+been)\s+(?:instructed|told|programmed)\s+(?:by\s+\S+\s+)?to\s+"
                        r"(?:never|not|always)\b"),
)


@register_check("output.leakage")
class Leakage(BaseCheck):
    """Canary tokens (``policy.canaries``) in output or tool arguments; system-prompt echoes; recitals of
    the system prompt itself, where the adapter passes it (``Subject.instructions``).

    Options: ``canaries`` (extra tokens), ``echo`` (score prompt echoes, default true), ``recital_words``
    (a verbatim run of this many words of the system prompt counts, default 12; 0 turns recitals off),
    ``recital_share`` (a recital of at least this part of the prompt, and twice ``recital_words`` long,
    scores 0.9, over the default ``high`` band; a shorter one 0.6, uncertain: judge material, since an
    answer may rightly quote a document the prompt carries; default 0.5).
    """

    id = "output.leakage"
    channels = frozenset({Channel.MODEL_OUTPUT, Channel.TOOL_CALL, Channel.HANDOFF})
    maso = ("PG-2.3", "PG-1.2")
    attack_categories = frozenset({"prompt_extraction"})
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "canaries": [],
        "echo": True,
        "recital_words": 12,
        "recital_share": 0.5,
    }

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        tokens = [t for t in list(policy.canaries) + list(self.options["canaries"]) if t]
        self._canaries = PatternSet(
            ((f"canary[{i}]", canary_pattern(t)) for i, t in enumerate(tokens)), case_sensitive=False)
        self._echo = PatternSet(_PROMPT_ECHO) if self.options["echo"] else None
        self._recital_words = int(self.options["recital_words"])
        self._recital_share = float(self.options["recital_share"])

    def run(self, subject: Subject) -> Sequence[Finding]:
        views = text_views(subject.text)
        out: list[Finding] = []
        if len(self._canaries):
            hits = self._canaries.hits(views)
            if hits:
                out.append(self.finding(
                    "leakage", score=1.0, severity=Severity.CRITICAL, action=Action.BLOCK,
                    spans=sorted({h.span for h in hits}),
                    message=f"canary token leaked ({len({h.key for h in hits})} distinct)"))
        if self._echo is not None and subject.channel is Channel.MODEL_OUTPUT:
            hits = self._echo.hits(views[:2])
            if hits:
                out.append(self.finding(
                    "prompt_extraction", score=0.6, severity=Severity.MEDIUM, spans=sorted({h.span for h in hits}),
                    message="output appears to recite the system prompt"))
        if subject.instructions and self._recital_words > 0:
            out.extend(self._recited(subject, subject.instructions))
        return out

    def _recited(self, subject: Subject, prompt: str) -> list[Finding]:
        found = recital(subject.payload[:subject.max_scan_bytes], prompt, self._recital_words)
        if found is None:
            return []
        whole = found.share >= self._recital_share and found.words >= 2 * self._recital_words
        return [self.finding(
            "prompt_extraction", score=0.9 if whole else 0.6, severity=Severity.HIGH if whole else Severity.MEDIUM,
            spans=found.spans,
            message=f"recites the system prompt: {found.words} words verbatim, {found.share:.0%} of the prompt")]


def compile_escape(token: str) -> str:
    import re2

    return str(re2.escape(token))


# what a model told to "spell the code out" or to "drop the dashes" puts between a token's characters
_CANARY_GAP = r"[\s\-_.,;:|/\\*'\"`+~]{0,3}"
_CANARY_MIN_CORE = 8


def canary_pattern(token: str) -> str:
    """A canary's letters and digits in order, up to three separators between any two of them.

    A canary is random, so ``C A N A R Y - 7 f 3 a``, ``CANARY7f3a`` or the token broken over two lines is
    still the token; only the exact spelling is kept for one too short to stay unique that way.
    """
    core = [c for c in token if c.isalnum()]
    if len(core) < _CANARY_MIN_CORE:
        return compile_escape(token)
    return _CANARY_GAP.join(compile_escape(c) for c in core)


@register_check("output.schema")
class OutputSchema(BaseCheck):
    """Structured output must parse as JSON and match its schema (subject's, else the policy's)."""

    id = "output.schema"
    channels = frozenset({Channel.MODEL_OUTPUT})
    maso = ("EC-2.13", "EC-1.8")
    option_defaults: ClassVar[Mapping[str, Any]] = {}  # the schema is the subject's or the policy's ``output_schema``

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        self._cache: dict[bytes, Any] = {}
        if policy.output_schema is not None:
            self._validator(policy.output_schema)

    def _validator(self, schema: dict[str, Any]) -> Any:
        key = canonical_json(schema)
        v = self._cache.get(key)
        if v is None:
            from jsonschema import Draft202012Validator

            Draft202012Validator.check_schema(schema)
            v = Draft202012Validator(schema)
            if len(self._cache) < 256:
                self._cache[key] = v
        return v

    def run(self, subject: Subject) -> Sequence[Finding]:
        schema = subject.output_schema or self.policy.output_schema
        if schema is None or subject.interim:  # the schema describes the answer, not what comes with tool calls
            return []
        try:
            validator = self._validator(schema)
        except Exception as exc:
            return [self.finding("format", score=1.0, severity=Severity.HIGH,
                                 message=f"output schema is invalid: {str(exc)[:160]}")]
        if subject.structured is not None:  # the answer's data itself: the text around it is not the answer
            return self._mismatch(validator, subject.structured, "structured answer")
        body = _strip_fence(subject.payload)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            return [self.finding("format", score=1.0, severity=Severity.MEDIUM,
                                 message=f"output is not valid JSON: {str(exc)[:120]}")]
        return self._mismatch(validator, (data,), "output")

    def _mismatch(self, validator: Any, values: Sequence[Any], what: str) -> list[Finding]:
        from .._policy import format_path

        out: list[Finding] = []
        for data in values:
            errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
            if errors:
                first = errors[0]
                where = format_path(first.absolute_path) or "<root>"
                out.append(self.finding("format", score=1.0, severity=Severity.MEDIUM,
                                        message=f"{what} does not match its schema at {where}: "
                                                f"{first.message[:160]} ({len(errors)} error(s))"))
        return out


def _strip_fence(text: str) -> str:
    t = text.strip()
    if t.startswith("```"):
        first_nl = t.find("\n")
        t = t[first_nl + 1:] if first_nl != -1 else ""
        if t.rstrip().endswith("```"):
            t = t.rstrip()[:-3]
    return t.strip()


@register_check("output.banned")
class BannedTerms(BaseCheck):
    """``policy.banned_terms`` (and option ``terms``) as whole words/phrases, after normalisation.

    A term written ``re:<pattern>`` is an RE2 pattern.
    """

    id = "output.banned"
    channels = frozenset({Channel.MODEL_OUTPUT})
    maso = ("PG-1.5",)
    option_defaults: ClassVar[Mapping[str, Any]] = {"terms": []}

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        terms = [t for t in list(policy.banned_terms) + list(self.options["terms"]) if t.strip()]
        self.terms = terms
        patterns = []
        for i, t in enumerate(terms):
            if t.startswith("re:"):
                patterns.append((f"term[{i}]", t[3:]))
            else:
                words = r"\s+".join(compile_escape(w) for w in t.split())
                patterns.append((f"term[{i}]", rf"(?:^|\b|\s){words}(?:\b|\s|$)"))
        self._set = PatternSet(patterns)

    def run(self, subject: Subject) -> Sequence[Finding]:
        if not len(self._set):
            return []
        hits = [h for h in self._set.hits(text_views(subject.text, attack=True)) if h.view.name != "rot13"]
        if not hits:
            return []
        keys = sorted({h.key for h in hits})
        shown = [self.terms[int(k[5:-1])] for k in keys][:5]
        return [self.finding("banned", score=1.0, severity=Severity.MEDIUM, spans=sorted({h.span for h in hits}),
                             message=f"banned term(s): {', '.join(shown)}")]
