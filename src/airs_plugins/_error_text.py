"""Everything an exception can say, for a guard to read before anyone is shown it.

A tool's error reaches the model, a user or a log however the code around the tool renders it: ``str``,
``repr`` (as ``ToolNode``'s error template does), a traceback with its causes, the notes, the errors an
``ExceptionGroup`` holds. A guard that reads only ``str`` lets the rest through unread.
"""

from __future__ import annotations

import contextlib


def error_text(exc: BaseException) -> str:
    """Everything a tool's exception can say, however code outside AIRS shows it to the model (``str``,
    ``repr`` as ``ToolNode``'s error template does, a traceback): for it and each exception it was raised from
    or groups (an ``ExceptionGroup`` from a ``TaskGroup`` says little in ``str``), the type, message, ``repr``,
    string arguments and notes."""
    return "\n".join(error_parts(exc))


def error_parts(exc: BaseException) -> list[str]:
    """What :func:`error_text` joins, each thing said once (``"boom"`` adds nothing to ``"ValueError: boom"``)."""
    parts: list[str] = []
    for current in _chain(exc)[0]:
        for said in _said(current):
            if said and not any(said in part for part in parts):
                parts.append(said)
    return parts


def read_whole(exc: BaseException) -> bool:
    """Whether :func:`error_parts` reads all ``exc`` can say. Past ``_ERROR_PARTS`` exceptions (a long chain of
    retries, each raised from the last) the rest is unread: a guard must not pass such an exception on as it is,
    since a traceback would print what nobody checked."""
    return _chain(exc)[1]


def _chain(exc: BaseException) -> tuple[list[BaseException], bool]:
    """``exc`` and the exceptions it was raised from or groups, at most ``_ERROR_PARTS``; and whether that is all."""
    found: list[BaseException] = []
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        if len(found) == _ERROR_PARTS:
            return found, False
        seen.add(id(current))
        found.append(current)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        cause = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        if cause is not None:
            pending.append(cause)
    return found, True


def _said(exc: BaseException) -> list[str]:
    out: list[str] = []
    for render in (lambda e: f"{type(e).__name__}: {e}", repr):
        with contextlib.suppress(Exception):  # a broken __str__/__repr__ shows nothing there either
            out.append(render(exc))
    out.extend(a for a in exc.args if isinstance(a, str))
    notes = getattr(exc, "__notes__", None)
    if isinstance(notes, list):
        out.extend(n for n in notes if isinstance(n, str))
    return out


_ERROR_PARTS = 32
"""Exceptions read at most in one chain (causes, contexts, grouped errors): a chain can be built without end."""
