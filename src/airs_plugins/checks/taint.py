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

from collections.abc import Iterator, Sequence
from typing import Any

from .._decision import Action, Channel, Finding, RunContext, Severity, SideEffect, Subject
from .._taint import arg_values, extract_values, normalise
from ._base import BaseCheck
from ._registry import register_check

_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


@register_check("taint.flow")
class TaintFlow(BaseCheck):
    id = "taint.flow"
    channels = frozenset({Channel.TOOL_CALL})
    maso = ("PG-1.4", "DP-2.1", "EC-1.6")
    attack_categories = frozenset({"exfiltration"})

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
        goal = ctx.user_goal or ""
        user = extract_values(goal) | arg_values(goal)
        injected: set[str] = set()
        clean: set[str] = set()
        read: set[str] = set()
        for obs in ctx.observations:
            read.update(obs.values)
            injected.update(obs.injected_values)
            if not obs.attack_categories:
                clean.update(obs.values)
        only_injected = (args & injected) - user - clean
        if only_injected and taint.on_injected_args != "allow":
            return [self.finding(
                "exfiltration", score=1.0, severity=Severity.CRITICAL,
                action=Action(taint.on_injected_args),
                message=f"{side.value} call {name!r} carries data that appeared only in injected "
                        f"content ({len(only_injected)} value(s))")]
        from_untrusted = (args & read) - user
        if from_untrusted and taint.on_tainted_args != "allow":
            return [self.finding(
                "taint", score=1.0, severity=Severity.HIGH, action=Action(taint.on_tainted_args),
                message=f"{side.value} call {name!r} carries data read from untrusted content "
                        f"({len(from_untrusted)} value(s))")]
        flagged = ctx.untrusted_findings
        if flagged and taint.on_untrusted_with_findings != "allow":
            return [self.finding(
                "taint", score=1.0, severity=Severity.HIGH,
                action=Action(taint.on_untrusted_with_findings),
                message=f"{side.value} call {name!r} after reading untrusted content with "
                        f"findings ({', '.join(flagged)})")]
        if (side is SideEffect.IRREVERSIBLE and self.options.get("irreversible_needs_anchor", True)
                and taint.on_tainted_args != "allow" and not anchored(subject.tool_args or {}, ctx)):
            return [self.finding(
                "taint", score=1.0, severity=Severity.HIGH, action=Action(taint.on_tainted_args),
                message=f"irreversible call {name!r} after reading untrusted content, with no argument "
                        f"taken from the user's request")]
        return []


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


def anchored(args: Any, ctx: RunContext) -> bool:
    """At least one argument value is something the user wrote in their request.

    Short values (ids, small numbers; two characters at least) must match a whole token of the
    request; longer ones may sit anywhere in it once both are normalised (case, spacing and
    separators ignored).
    """
    goal = ctx.user_goal or ""
    if not goal:
        return False
    tokens = _tokens(goal)
    flat = normalise(goal)
    for leaf in _leaves(args):
        value = normalise(leaf)
        if not value:
            continue
        if len(value) >= 4 and value in flat:
            return True
        if len(value) >= 2 and value in tokens:
            return True
    return False
