"""Prompt injection, jailbreak, prompt extraction and hidden-text checks (MASO PG-1.1, PG-2.1, PG-2.3).

``injection.prompt`` scans every view of the subject (normalised, homoglyph/leet-folded,
letter-spacing-collapsed, decoded base64/hex/URL/rot13, Unicode-tag text) with one RE2 set, then
scores the signals that hit: the strongest signal per kind, combined across kinds with a noisy-OR,
so one strong override phrase reaches the ``high`` band and a lone weak cue stays below ``low``.
Two shapes add a fixed bonus: text that steers the model *and* asks for an action (an injection), and a
persona, second answer or standing order *and* a claim that no rules apply (a jailbreak); a bare role
assignment ("act as …") is enough for the persona half though it weighs next to nothing alone, and limits
named as someone else's ("the rules of chess") count half and complete no shape. Cues that are
ordinary between people ("it is very important", a bare imperative) count only when the text also
addresses or steers the model, and one phrase counts once: the same family matched in two languages, or
an imperative that is also a send-to-address, is one piece of evidence.
Text that *discusses* attacks (security articles, "for example", quoted phrases) is damped, so it
lands in the uncertain band at most, where the judge can look.

On user input a learned *jailbreak-style* score (``_style_model``) settles what the rules leave open: a
text whose rule score stays under the ``low`` band is lifted to it (sent to the judge, never blocked on
style alone) when the style score reaches ``style_with_cue`` (0.5) and some rule cue fired (in text that
does not discuss attacks, by two or more discussion cues: an article about jailbreaks shares their
vocabulary), or ``style_alone`` (0.65) with none. Persona sheets and "games" around a model that answers everything say
what a jailbreak says in words no rule names; the score is trained to tell that register from
harmful-but-plain requests and from long, instruction-heavy benign prompts.

``injection.hidden`` flags obfuscation on its own: Unicode tag characters, bidi overrides and
zero-width characters inside words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from .._decision import Channel, Finding, Severity, Subject
from .._policy import CheckConfig, Policy
from ._base import BaseCheck
from ._patterns import DISCUSSION_CUES, KIND_CATEGORY, SIGNALS, Signal
from ._regex import Hit, PatternSet, compile_re2
from ._registry import register_check
from ._segments import injected_segments
from ._style_model import StyleModel, style_model
from ._textprep import DECODED_VIEWS, text_views

INJECTION_CHANNELS = frozenset({Channel.USER_INPUT, Channel.TOOL_RESULT, Channel.RETRIEVED, Channel.HANDOFF})
_OBFUSCATED_VIEWS = DECODED_VIEWS | {"fold", "spaced"}
_QUOTES = "\"'“”‘’«`"
_SEVERITY = ((0.9, Severity.CRITICAL), (0.75, Severity.HIGH), (0.5, Severity.MEDIUM))
_MASO = {
    "injection": ("PG-1.1", "PG-2.1", "PG-3.1"),
    "jailbreak": ("PG-1.1", "PG-2.1"),
    "prompt_extraction": ("PG-1.2", "PG-2.3"),
    "exfiltration": ("PG-1.1", "DP-2.1"),
    "obfuscation": ("PG-1.1",),
}


def severity_for(score: float) -> Severity:
    for floor, sev in _SEVERITY:
        if score >= floor:
            return sev
    return Severity.LOW


def noisy_or(weights: Sequence[float]) -> float:
    miss = 1.0
    for w in weights:
        miss *= 1.0 - max(0.0, min(1.0, w))
    return 1.0 - miss


_OWN = compile_re2(r"^\s*(?:that\s+|which\s+)?(?:i|we)\s+(?:just\s+)?(?:gave|sent|wrote|told|provided|mentioned|"
                   r"shared|asked|typed)\b")


_NEGATABLE = frozenset({"exfil", "tool_invoke", "imperative"})
_STEER = frozenset({"override", "addressed", "role_marker", "new_instruction", "stealth", "urgency"})
_ACT = frozenset({"exfil", "tool_invoke", "imperative"})
_GATED = frozenset({"pressure", "imperative"})
_SYNERGY = 0.35
_PERSONA = frozenset({"persona", "role", "dual", "new_instruction"})
_LOOSE = frozenset({"unrestricted", "refusal", "jailbreak"})
_NEGATION = compile_re2(r"(?:\bnever|\bnot|n't|\bavoid|\bno\s+one\s+should)\s+(?:\w+\s+)?$")


# "the rules of chess", "sans restrictions de budget": the limits named belong to something else
_QUALIFIED = compile_re2(r"^\s*(?:of|on|for|de|d'|du|des|del|della|di|von|fur|на|для)\s")
_QUALIFIED_MODEL = compile_re2(r"^\s*(?:of|de|d'|du|del|della|di|von)\s+(?:the\s+|your\s+|its\s+)?"
                               r"(?:openai|chatgpt|gpt|anthropic|ai\b|model|assistant|system|developers?)")


# what a model's limits are called ("no restrictions", "sans censure", "ohne Filter"), as opposed to a
# character's ethics ("a villain who has no morals", "acted without regard for the law")
_MODEL_LIMITS = compile_re2(r"restri|limit|filt|censu|цензур|фильтр|ограничен|einschr|grenz|polic|guideline|richtlin|"
                            r"directiv|safety|secur|rules?\b|regl|règle|regel|правил|programm")


def _qualified(h: Hit) -> bool:
    if h.view.span_of_origin is not None:
        return False
    tail = h.view.text[h.end:h.end + 40]
    return bool(_QUALIFIED.search(tail)) and not _QUALIFIED_MODEL.search(tail)


def _negated(h: Hit) -> bool:
    if h.view.span_of_origin is not None:
        return False
    return bool(_NEGATION.search(h.view.text[max(0, h.start - 24):h.start]))


def _own_instructions(h: Hit) -> bool:
    if h.view.span_of_origin is not None:
        return False
    tail = h.view.text[h.end:h.end + 40]
    return " my " in f" {h.text.lower()} " or bool(_OWN.search(tail))


def _family(key: str) -> str:
    return key.partition(".")[2]


def _one_cue_once(hits: Sequence[Hit], by_key: dict[str, Signal]) -> list[Hit]:
    """Drop a hit that overlaps a stronger hit standing for the same cue: one phrase, one piece of evidence.

    Two cases: the same family matched in two languages' vocabularies (Spanish and Portuguese share "envie"),
    and an imperative, a tool call and a send-to-address read off one instruction ("email the file to a@b.c"),
    which counted as independent kinds would add up to a confident score for one, often benign, request.
    Decoded segments are exempt: their spans all collapse to the encoded region.
    """
    ordered = sorted((h for h in hits if h.view.span_of_origin is None), key=lambda h: -by_key[h.key].weight)
    kept: list[Hit] = []
    dropped: set[int] = set()
    for h in ordered:
        sig = by_key[h.key]
        for k in kept:
            other = by_key[k.key]
            same_cue = (other.kind == sig.kind and other.lang != sig.lang and _family(other.key) == _family(h.key)) \
                or (sig.kind in _ACT and other.kind in _ACT and other.kind != sig.kind)
            if same_cue and h.span[0] < k.span[1] and k.span[0] < h.span[1]:
                dropped.add(id(h))
                break
        else:
            kept.append(h)
    return [h for h in hits if id(h) not in dropped] if dropped else list(hits)


def _merge(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


class _Compiled:
    """Pattern sets built once per process (they do not depend on the policy)."""

    _instance: _Compiled | None = None

    def __init__(self) -> None:
        self.by_key: dict[str, Signal] = {s.key: s for s in SIGNALS}
        self.any_set = PatternSet((s.key, s.pattern) for s in SIGNALS if s.scope == "any")
        self.all_set = PatternSet((s.key, s.pattern) for s in SIGNALS)
        self.cues = PatternSet(DISCUSSION_CUES)
        self.strong = frozenset(s.key for s in SIGNALS if s.weight >= 0.6)

    @classmethod
    def get(cls) -> _Compiled:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance


@register_check("injection.prompt")
class PromptInjection(BaseCheck):
    """Injection, jailbreak, prompt extraction and exfiltration instructions in text.

    Options: ``damping`` (multiplier applied when the text discusses attacks, default 0.55 for two or
    more distinct cues, ``damping_one`` 0.8 for one), ``disabled_signals`` (signal keys to skip),
    ``style_model`` (default true: the learned jailbreak-style score on user input, see the module
    docstring) with its thresholds ``style_with_cue`` (0.5) and ``style_alone`` (0.65),
    ``redact_scope``: ``segment`` (default; on tool results and retrieved text a redaction
    removes the injected segment, trigger through payload, see ``_segments.py``) or ``match`` (only the
    matched phrases).
    """

    id = "injection.prompt"
    channels = INJECTION_CHANNELS
    maso = ("PG-1.1", "PG-2.1", "PG-3.1")
    attack_categories = frozenset({"injection", "jailbreak", "prompt_extraction", "exfiltration", "obfuscation"})
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "disabled_signals": [],
        "damping": 0.55,
        "damping_one": 0.8,
        "redact_scope": "segment",
        "style_model": True,
        "style_with_cue": 0.5,
        "style_alone": 0.65,
    }

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        self._c = _Compiled.get()
        self._disabled = frozenset(self.options["disabled_signals"])
        self._damp_many = float(self.options["damping"])
        self._damp_one = float(self.options["damping_one"])
        self._segment_scope = self.options["redact_scope"] == "segment"
        self._style: StyleModel | None = style_model() if self.options["style_model"] else None
        self._style_with_cue = float(self.options["style_with_cue"])
        self._style_alone = float(self.options["style_alone"])

    def run(self, subject: Subject) -> Sequence[Finding]:
        scan = subject.text
        views = text_views(scan, attack=True)
        pset = self._c.all_set if subject.channel.untrusted or subject.channel is Channel.HANDOFF \
            else self._c.any_set
        hits = [h for h in pset.hits(views) if h.key not in self._disabled
                and (h.view.name != "rot13" or h.key in self._c.strong)]
        found = self._score(subject, hits) if hits else []
        if self._style is not None and subject.channel is Channel.USER_INPUT:
            return self._styled(subject, found, self._style)
        return found

    def _styled(self, subject: Subject, found: list[Finding], model: StyleModel) -> list[Finding]:
        """Lift a user input the rules leave under ``low`` to ``low`` when its style is a jailbreak's."""
        low = self.config.bands.low
        if any(f.score >= low for f in found):
            return found  # the rules already decided; the style adds nothing
        if found and self._damping(subject) <= self._damp_many:
            # it discusses attacks (an article quoting one): their vocabulary is its topic, not its intent; a lone
            # cue ("for example") is common inside jailbreaks themselves, which show the format they want
            return found
        p = model.score(subject.text.original)
        if found and p >= self._style_with_cue:
            first = found[0]
            lifted = first.model_copy(update={
                "score": low, "severity": severity_for(low),
                "message": f"{first.message}; jailbreak style {p:.2f} lifts it to the uncertain band"})
            return [lifted, *found[1:]]
        if not found and p >= self._style_alone:
            return [self.finding("jailbreak", score=low, severity=severity_for(low), maso=_MASO["jailbreak"],
                                 message=f"jailbreak style {p:.2f} with no rule cue (learned scorer)")]
        return found

    def _score(self, subject: Subject, hits: list[Hit]) -> list[Finding]:
        by_kind: dict[str, dict[str, float]] = defaultdict(dict)
        spans_by_kind: dict[str, list[tuple[int, int]]] = defaultdict(list)
        plain_keys: set[str] = set()
        obfuscated: list[Hit] = []
        loose_kinds: set[str] = set()  # kinds with a rule-lifting cue about the model's own rules
        model_limits = False  # one of those cues names a model's limits (a bare role needs that)
        for h in _one_cue_once(hits, self._c.by_key):
            sig = self._c.by_key[h.key]
            w = sig.weight
            before = h.view.text[h.start - 1] if h.start > 0 and h.view.span_of_origin is None else ""
            if before and before in _QUOTES:
                w *= 0.7  # a quoted phrase is usually being talked about, not issued
            if sig.kind in _NEGATABLE and _negated(h):
                continue  # "never share your API keys" is advice, not an instruction to share them
            if sig.kind == "unrestricted" and _qualified(h):
                w *= 0.5  # "doesn't care about the rules of polite conversation" lifts no rule of the model's
            elif sig.kind in _LOOSE:
                loose_kinds.add(sig.kind)
                model_limits = model_limits or sig.kind != "unrestricted" or bool(_MODEL_LIMITS.search(h.text))
            if sig.kind == "override" and subject.channel is Channel.USER_INPUT and _own_instructions(h):
                w *= 0.5  # the user revising their own earlier request
            kinds = by_kind[sig.kind]
            kinds[h.key] = max(kinds.get(h.key, 0.0), w)
            spans_by_kind[sig.kind].append(h.span)
            if h.view.name in _OBFUSCATED_VIEWS:
                obfuscated.append(h)
            else:
                plain_keys.add(h.key)
        if not by_kind.keys() & _STEER:
            # "it is very important", "no confirmation needed", a bare imperative: ordinary in mail and notes
            # between people; they only add weight to text that also addresses or steers the model
            for kind in _GATED & by_kind.keys():
                del by_kind[kind]
        spans_by_cat: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for kind in by_kind:
            spans_by_cat[KIND_CATEGORY[kind]].extend(spans_by_kind[kind])
        gated_keys = {h.key for h in hits if self._c.by_key[h.key].kind not in by_kind}
        obfuscated = [h for h in obfuscated if h.key not in gated_keys]
        if not by_kind:
            return []
        kind_scores: dict[str, float] = {}
        for kind, per_key in by_kind.items():
            ws = sorted(per_key.values(), reverse=True)
            # further cues of the same kind add less than the first (they are correlated)
            kind_scores[kind] = noisy_or([w * (0.75 ** i) for i, w in enumerate(ws)])
        cat_scores: dict[str, float] = defaultdict(float)
        cat_kinds: dict[str, list[float]] = defaultdict(list)
        for kind, sc in kind_scores.items():
            cat_kinds[KIND_CATEGORY[kind]].append(sc)
        for cat, scores in cat_kinds.items():
            cat_scores[cat] = noisy_or(scores)
        combined = noisy_or(list(kind_scores.values()))
        if kind_scores.keys() & _STEER and kind_scores.keys() & _ACT:
            # text that both steers the model and asks for an action is the shape of an injection
            combined = noisy_or([combined, _SYNERGY])
        persona = kind_scores.keys() & _PERSONA
        if persona and loose_kinds & kind_scores.keys() and (persona != {"role"} or model_limits):
            # a persona, a second answer or a new standing order that is declared free of rules is the shape
            # of a jailbreak
            combined = noisy_or([combined, _SYNERGY])
        hidden = [h for h in obfuscated if h.key not in plain_keys]
        if hidden:
            combined = noisy_or([combined, 0.3])
        # many distinct attack constructions are an attack, not an article quoting one
        damp = self._damping(subject) if sum(len(v) for v in by_kind.values()) < 4 else 1.0
        combined = min(0.99, combined * damp)
        primary = max(cat_scores, key=lambda c: (cat_scores[c], c == "injection"))
        kinds_text = ", ".join(sorted(kind_scores))
        evidence = _merge([sp for spans in spans_by_cat.values() for sp in spans])
        # in content an attacker wrote, the payload follows the trigger: redaction takes the whole segment
        scope = injected_segments(subject.text.original, evidence) \
            if self._segment_scope and subject.channel.untrusted else None
        out = [self.finding(
            primary, score=combined, severity=severity_for(combined), redact_spans=scope,
            spans=evidence, maso=_MASO[primary],
            message=f"{primary.replace('_', ' ')} signals ({kinds_text}); {len(hits)} match(es)"
                    + (f"; discussion context x{damp:.2f}" if damp < 1.0 else ""))]
        for cat, raw_score in cat_scores.items():
            # the same text-level evidence, labelled by what else it asks for (taint keeps the category);
            # it carries the combined score so the router decides it together with the primary finding
            if cat != primary and raw_score * damp >= 0.5:
                out.append(self.finding(cat, score=combined, severity=severity_for(combined),
                                        spans=_merge(spans_by_cat[cat]), maso=_MASO[cat], redact_spans=scope,
                                        message=f"{cat.replace('_', ' ')} signals (own score {raw_score:.2f})"))
        if hidden:
            names = sorted({h.view.name for h in hidden})
            out.append(self.finding(
                "obfuscation", score=combined, severity=severity_for(combined),
                spans=_merge([h.span for h in hidden]), maso=_MASO["obfuscation"],
                message=f"attack text hidden by {', '.join(names)} encoding"))
        return out

    def _damping(self, subject: Subject) -> float:
        view = subject.text.views[0]
        for v in subject.text.views:
            if v.name == "norm":
                view = v
        cues = set(self._c.cues.keys_hit(view.text))
        if len(cues) >= 2:
            return self._damp_many
        if cues:
            return self._damp_one
        return 1.0


@register_check("injection.hidden")
class HiddenText(BaseCheck):
    """Invisible or reordered text: Unicode tag characters, bidi overrides, zero-width inside words."""

    id = "injection.hidden"
    channels = INJECTION_CHANNELS | {Channel.MODEL_OUTPUT}
    maso = ("PG-1.1",)
    attack_categories = frozenset({"obfuscation"})
    option_defaults: ClassVar[Mapping[str, Any]] = {}

    def run(self, subject: Subject) -> Sequence[Finding]:
        scan = subject.text
        flags = scan.flags
        if not flags:
            return []
        out: list[Finding] = []
        if "unicode_tags" in flags:
            spans = [v.span_of_origin for v in scan.views if v.name == "tags" and v.span_of_origin]
            hidden = " ".join(v.text for v in scan.views if v.name == "tags")
            out.append(self.finding(
                "obfuscation", score=0.9, severity=Severity.HIGH, spans=[s for s in spans if s],
                message=f"text hidden in Unicode tag characters ({len(hidden)} chars): {hidden[:80]!r}"))
        if "bidi" in flags:
            out.append(self.finding("obfuscation", score=0.55, severity=Severity.MEDIUM,
                                    message="bidirectional override characters reorder the visible text"))
        if "zero_width_many" in flags:
            out.append(self.finding("obfuscation", score=0.5, severity=Severity.LOW,
                                    message="zero-width characters inside words"))
        elif "zero_width" in flags:
            out.append(self.finding("obfuscation", score=0.3, severity=Severity.LOW,
                                    message="a zero-width character inside a word"))
        return out
