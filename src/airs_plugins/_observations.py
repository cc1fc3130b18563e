"""A run's record of what it read, bounded without forgetting what taint needs.

A run keeps at most ``MAX_OBSERVATIONS`` observations, so that the context re-saved at every step of a long
thread does not grow without end. Dropping the oldest would let an injection wash itself out: a model told
to make a few hundred harmless reads first would forget the injected read, its attack categories and the
values the attacker wrote, and the outward call that follows would run. So the oldest observations are
*folded* into one summary observation instead: the union of their attack categories, injected values and
salient values. Everything the taint rules read survives; only which read said what is lost.

The summary's values are capped (``_MAX_FOLDED_VALUES``, newest kept). Past the cap it says so
(``values_complete`` false): a value that fell out no longer marks a call as carrying read data, but the
attack categories and the injected values (capped far above what a thread ever collects) still gate every
outward call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ._decision import FOLDED_SOURCE, MAX_OBSERVATIONS, Channel, Observation

_MAX_FOLDED_VALUES = 4096
_MAX_FOLDED_INJECTED = 1024


def bounded(observations: Sequence[Observation]) -> tuple[Observation, ...]:
    """``observations`` (oldest first) cut to ``MAX_OBSERVATIONS``, the oldest folded into one summary."""
    if len(observations) <= MAX_OBSERVATIONS:
        return tuple(observations)
    summaries = [o for o in observations if o.source == FOLDED_SOURCE]
    reads = [o for o in observations if o.source != FOLDED_SOURCE]
    keep = MAX_OBSERVATIONS - 1
    return (fold([*summaries, *reads[:-keep]]), *reads[-keep:])


def fold(parts: Sequence[Observation]) -> Observation:
    """One observation that carries what every one of ``parts`` told taint."""
    values, values_capped = _union((o.values for o in parts), _MAX_FOLDED_VALUES)
    # past this cap some injected values fall out, but the attack categories kept still gate every outward call
    injected, _capped = _union((o.injected_values for o in parts), _MAX_FOLDED_INJECTED)
    digests = "\n".join(sorted(o.digest for o in parts))
    return Observation(
        source=FOLDED_SOURCE,
        channel=Channel.TOOL_RESULT,
        digest="sha256:" + hashlib.sha256(digests.encode()).hexdigest(),
        attack_categories=tuple(sorted({c for o in parts for c in o.attack_categories})),
        values=values,
        values_complete=not values_capped and all(o.values_complete for o in parts),
        injected_values=injected,
        at=max((o.at for o in parts), default=0.0),
    )


def covering(summaries: Iterable[Mapping[str, Any]]) -> Callable[[Mapping[str, Any]], bool]:
    """A test for dumped observations: does one of these dumped summaries already hold its every category and
    value (it was folded into it, or says nothing the summary does not)? Such an observation can be left out
    of a merge without taint losing anything."""
    held = [(frozenset(s.get("attack_categories") or ()), frozenset(s.get("injected_values") or ()),
             frozenset(s.get("values") or ()), bool(s.get("values_complete"))) for s in summaries]

    def covered(observation: Mapping[str, Any]) -> bool:
        categories = observation.get("attack_categories") or ()
        injected = observation.get("injected_values") or ()
        values = observation.get("values") or ()
        complete = bool(observation.get("values_complete"))
        return any(c.issuperset(categories) and i.issuperset(injected) and v.issuperset(values)
                   and (complete or not whole) for c, i, v, whole in held)

    return covered


def _union(groups: Iterable[Sequence[str]], cap: int) -> tuple[tuple[str, ...], bool]:
    """The distinct values of ``groups`` (oldest group first), the newest ``cap`` kept; and whether any fell out."""
    ordered = list(groups)
    kept: dict[str, None] = {}
    for group in reversed(ordered):
        for value in group:
            kept.setdefault(value, None)
    values = list(kept)
    return tuple(sorted(values[:cap])), len(values) > cap


__all__ = ["FOLDED_SOURCE", "bounded", "covering", "fold"]
