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
    try:
        step = next(flow)
        while True:
            try:
                if isinstance(step, Ask):
                    out = getattr(shield, step.method)(*step.args, **step.kwargs)
                else:
                    if call is None:  # pragma: no cover - a flow only yields Run when given a handler
                        raise RuntimeError("this flow needs a continuation")
                    out = call(step.arg)
            except Exception as exc:
                step = flow.throw(exc)
                continue
            step = flow.send(out)
    except StopIteration as stop:
        result: T = stop.value
        return result


async def adrive(flow: Flow[T], shield: Shield, call: Callable[[Any], Awaitable[Any]] | None = None) -> T:
    try:
        step = next(flow)
        while True:
            try:
                if isinstance(step, Ask):
                    out = await getattr(shield, "a" + step.method)(*step.args, **step.kwargs)
                else:
                    if call is None:  # pragma: no cover
                        raise RuntimeError("this flow needs a continuation")
                    out = await call(step.arg)
            except Exception as exc:
                step = flow.throw(exc)
                continue
            step = flow.send(out)
    except StopIteration as stop:
        result: T = stop.value
        return result
