"""Context variables shared by the core and the adapters."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_SUPPRESSED: contextvars.ContextVar[bool] = contextvars.ContextVar("airs_suppressed", default=False)


@contextmanager
def suppressed() -> Iterator[None]:
    """Inside this block our callbacks and middleware do not check anything (e.g. the judge's own
    model call), so the judge is never judged and nothing loops."""
    token = _SUPPRESSED.set(True)
    try:
        yield
    finally:
        _SUPPRESSED.reset(token)


def is_suppressed() -> bool:
    return _SUPPRESSED.get()
