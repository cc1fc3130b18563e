"""Rule of two, argument-level: untrusted content read + an outward action ⇒ a gate.

Once the run has read untrusted content (a tool result or a retrieved document), a call to a tool
whose side effect is external, irreversible or unknown is checked against where its arguments came
from, first rule that applies:

1. an argument value appeared only next to a detected attack (``Observation.injected_values``) and
   nowhere in the user's request or in clean content ⇒ ``taint.on_injected_args`` (block);
2. an argument value was read from untrusted content and is not in the user's request ⇒
   ``taint.on_tainted_args`` (approval);
3. untrusted content read in this run had attack findings ⇒ ``taint.on_untrusted_with_findings``
   (approval);
4. the tool is *irreversible* and none of its arguments is anchored in the user's request ⇒
   ``taint.on_tainted_args`` (approval). Salient-value taint (rule 2) only sees addresses, URLs,
   account numbers and long ids; an irreversible call whose target is a short id, a password or a
   name (``delete_file("13")``, ``update_password("new_password")``) would otherwise run on a
   hijacked model's say-so. Requiring one argument the user actually wrote keeps the user's own
   irreversible requests allowed (``"pay 100 to GB29…"``, ``"change my password to …"``) and sends
   only irreversible actions the user never specified to a human. Option
   ``irreversible_needs_anchor`` (default true) switches it off.
5. otherwise (values from the user's own request, or no salient values) ⇒ nothing.

Values are compared normalised (``_taint.normalise``), so spacing, case and separators do not
matter. (MASO PG-1.4, DP-2.1, EC-1.6.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar

from .._decision import Action, Channel, Finding, RunContext, Severity, Subject
from .._policy import CheckConfig, Policy
from .._taint import arg_values, extract_values, normalise
from ._base import BaseCheck, quoted
from ._registry import register_check

_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = rf"(?:{'|'.join(_MONTHS)})[a-z]{{0,6}}"
_DATE_OR_TIME = re.compile(
    r"(?i)[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?|[0-9]{1,2}(?:st|nd|rd|th)\b"
    rf"|\b{_MONTH}\.? [0-9]{{1,2}}\b|\b[0-9]{{1,2}} {_MONTH}\b")


@register_check("taint.flow")
class TaintFlow(BaseCheck):
    id = "taint.flow"
    channels = frozenset({Channel.TOOL_CALL})
    maso = ("PG-1.4", "DP-2.1", "EC-1.6")
    attack_categories = frozenset({"exfiltration"})
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "anchor_side_effects": ["irreversible"],
        "irreversible_needs_anchor": True,
        "anchor_tools": [],
    }

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        sides = self.options["anchor_side_effects"]
        if not self.options["irreversible_needs_anchor"]:
            sides = [s for s in sides if s != "irreversible"]
        self._anchor_sides = frozenset(str(s) for s in sides)
        self._anchor_tools = frozenset(str(t) for t in self.options["anchor_tools"])

    def run(self, subject: Subject) -> Sequence[Finding]:
        taint = self.policy.taint
        ctx = subject.context
        if not taint.enabled or not ctx.observations:
            return []
        side = subject.side_effect or self.policy.tool(subject.tool_name or "").side_effect
        if not side.reaches_outside:
            return []
        name = subject.tool_name or ""
        args = arg_values(subject.tool_args or {})
        # only the argument values that were read matter: intersect per observation, and extract the
        # user's own values only when some argument was read somewhere
        injected: set[str] = set()
        clean: set[str] = set()
        read: set[str] = set()
        if args:
            for obs in ctx.observations:
                if obs.values:
                    seen = args.intersection(obs.values)
                    read |= seen
                    if not obs.attack_categories:
                        clean |= seen
                if obs.injected_values:
                    injected |= args.intersection(obs.injected_values)
        user = _user_values(ctx.user_goal or "") if read or injected else frozenset()
        only_injected = injected - user - clean
        if only_injected and taint.on_injected_args != "allow":
            return [self.finding(
                "exfiltration", score=1.0, severity=Severity.CRITICAL,
                action=Action(taint.on_injected_args),
                message=f"{side.value} call {quoted(name)} carries data that appeared only in injected "
                        f"content ({len(only_injected)} value(s))")]
        from_untrusted = read - user
        if from_untrusted and taint.on_tainted_args != "allow":
            return [self.finding(
                "taint", score=1.0, severity=Severity.HIGH, action=Action(taint.on_tainted_args),
                message=f"{side.value} call {quoted(name)} carries data read from untrusted content "
                        f"({len(from_untrusted)} value(s))")]
        flagged = ctx.untrusted_findings
        if flagged and taint.on_untrusted_with_findings != "allow":
            return [self.finding(
                "taint", score=1.0, severity=Severity.HIGH,
                action=Action(taint.on_untrusted_with_findings),
                message=f"{side.value} call {quoted(name)} after reading untrusted content with "
                        f"findings ({', '.join(flagged)})")]
        needs_anchor = side.value in self._anchor_sides or name in self._anchor_tools
        if (needs_anchor and taint.on_tainted_args != "allow"
                and not anchored(subject.tool_args or {}, ctx)):
            return [self.finding(
                "taint", score=1.0, severity=Severity.HIGH, action=Action(taint.on_tainted_args),
                message=f"{side.value} call {quoted(name)} after reading untrusted content, with no argument "
                        f"taken from the user's request")]
        return []


@lru_cache(maxsize=256)
def _user_values(goal: str) -> frozenset[str]:
    """Values the user wrote in their request (the goal is the same for every call of a run)."""
    return frozenset(extract_values(goal) | arg_values(goal))


def _leaves(args: Any, depth: int = 0) -> Iterator[str]:
    if depth > 32:
        return
    if isinstance(args, bool) or args is None:
        return
    if isinstance(args, str):
        yield args
    elif isinstance(args, int):
        yield str(args)
    elif isinstance(args, float):
        yield str(int(args)) if args.is_integer() else repr(args)
    elif isinstance(args, dict):
        for v in args.values():
            yield from _leaves(v, depth + 1)
    elif isinstance(args, (list, tuple)):
        for v in args[:1000]:
            yield from _leaves(v, depth + 1)


def _tokens(text: str) -> set[str]:
    out: set[str] = set()
    word: list[str] = []
    for ch in text.lower():
        if ch in _WORD_CHARS:
            word.append(ch)
        elif word:
            out.add("".join(word))
            word = []
    if word:
        out.add("".join(word))
    return out


_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_WORD_DAY = re.compile(
    rf"(?i)\b({_MONTH})\.? ([0-9]{{1,2}})(?:st|nd|rd|th)?\b|\b([0-9]{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MONTH})\b")


def _days(text: str) -> set[tuple[int, int]]:
    """(month, day) pairs the text names, in ISO or in words ("April 25th", "14th of November")."""
    out = {(int(m.group(2)), int(m.group(3))) for m in _ISO_DAY.finditer(text)}
    for m in _WORD_DAY.finditer(text):
        month, day = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        out.add((_MONTHS.index(month[:3].lower()) + 1, int(day)))
    return out


def anchored(args: Any, ctx: RunContext) -> bool:
    """At least one argument value is something the user wrote in their request.

    Short values (ids, small numbers; two characters at least) must match a whole token of the
    request (dates and times in the request are not tokens: "June 13" does not anchor id "13");
    longer ones may sit anywhere in it once both are normalised (case, spacing and separators
    ignored). A date argument (``2024-04-25 09:00``) is anchored by the same month and day written in
    the request in any common form ("April 25th", "25 April", "the 25th of April").
    """
    goal = ctx.user_goal or ""
    if not goal:
        return False
    # "13" must not be anchored by "2024-05-13" or "13:00": dates and times are not ids the user gave
    tokens = _tokens(_DATE_OR_TIME.sub(" ", goal))
    flat = normalise(goal)
    days = _days(goal)
    for leaf in _leaves(args):
        iso = _ISO_DAY.match(leaf)
        if iso and (int(iso.group(2)), int(iso.group(3))) in days:
            return True
        value = normalise(leaf)
        if not value:
            continue
        if len(value) >= 4 and value in flat:
            return True
        if len(value) >= 2 and value in tokens:
            return True
    return False
