"""One implementation for the sync and async hooks (the httpx ``auth_flow`` pattern).

An adapter step is written once as a generator that does no I/O of its own: it yields
:class:`Ask` (a ``Shield.check_*`` call) or :class:`Run` (the host's continuation, e.g. the tool
handler) and receives the result. :func:`drive` runs it with ``check_*`` and a sync handler,
:func:`adrive` with ``acheck_*`` (so a judge is awaited on the async path) and an async handler.
An exception raised by the continuation is thrown back into the generator, which can record it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .._shield import Shield
from .._shield import adrive as core_adrive
from .._shield import drive as core_drive

T = TypeVar("T")


@dataclass(frozen=True)
class Ask:
    """A ``Shield.<method>(*args, **kwargs)`` call; the async driver uses ``a<method>``."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    """Call the host's continuation with ``arg``."""

    arg: Any


Flow = Generator[Ask | Run, Any, T]


def drive(flow: Flow[T], shield: Shield, call: Callable[[Any], Any] | None = None) -> T:
    def step(s: Ask | Run) -> Any:
        if isinstance(s, Ask):
            return getattr(shield, s.method)(*s.args, **s.kwargs)
        return _continuation(call)(s.arg)

    return core_drive(flow, step)


async def adrive(flow: Flow[T], shield: Shield, call: Callable[[Any], Awaitable[Any]] | None = None) -> T:
    async def step(s: Ask | Run) -> Any:
        if isinstance(s, Ask):
            return await getattr(shield, "a" + s.method)(*s.args, **s.kwargs)
        return await _continuation(call)(s.arg)

    return await core_adrive(flow, step)


def _continuation(call: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    if call is None:  # pragma: no cover - a flow only yields Run when given a handler
        raise RuntimeError("this flow needs a continuation")
    return call
