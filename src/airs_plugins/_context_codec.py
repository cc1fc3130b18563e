"""``RunContext`` ⇄ the plain dict adapters keep in framework state, without redoing known work.

A run's context goes out to framework state (LangGraph channels, a LlamaIndex ``ctx.store``) after
every decision and comes back in before the next one. Within a process the framework hands back the
very dict it was given, so decoding it again is pure waste, and so is re-dumping observations, which
are immutable and carried unchanged from one context to the next. Both are remembered here by object
identity. Entries hold the object itself, so an id cannot be reused while its entry lives; a dict
that did not come from :func:`encode_context` (a checkpoint read after a restart) is validated.
State values are never mutated in place (the adapters' reducers build new dicts).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from ._decision import Observation, RunContext

K = TypeVar("K")
V = TypeVar("V")


class _IdentityMemo(Generic[K, V]):
    """``id(key) -> value`` for live objects, bounded (the older half is dropped when full)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: dict[int, tuple[K, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        hit = self._items.get(id(key))
        return hit[1] if hit is not None and hit[0] is key else None

    def put(self, key: K, value: V) -> None:
        with self._lock:
            if len(self._items) >= self._size:
                for stale in list(self._items)[: self._size // 2]:
                    del self._items[stale]
            self._items[id(key)] = (key, value)


_CONTEXTS: _IdentityMemo[Mapping[str, Any], RunContext] = _IdentityMemo(512)
_OBSERVATIONS: _IdentityMemo[Observation, dict[str, Any]] = _IdentityMemo(2048)


def _observation(obs: Observation) -> dict[str, Any]:
    dumped = _OBSERVATIONS.get(obs)
    if dumped is None:
        dumped = obs.model_dump(mode="json")
        _OBSERVATIONS.put(obs, dumped)
    return dumped


def encode_context(ctx: RunContext) -> dict[str, Any]:
    """``ctx.model_dump(mode="json")``, with observation dicts shared between successive dumps."""
    dumped = ctx.model_dump(mode="json", exclude={"observations"})
    dumped["observations"] = [_observation(o) for o in ctx.observations]
    _CONTEXTS.put(dumped, ctx)
    return dumped


def decode_context(raw: RunContext | Mapping[str, Any] | None, **ids: str | None) -> RunContext:
    """``RunContext.coerce``, skipping validation for a dict this process encoded."""
    if raw is not None and not isinstance(raw, RunContext):
        known = _CONTEXTS.get(raw)
        if known is not None:
            return known
    return RunContext.coerce(raw, **ids)
