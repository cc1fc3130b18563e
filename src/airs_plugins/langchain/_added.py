"""Messages a tool adds to the conversation besides its own answer (``Command(update={"messages": [...]})``).

A tool that returns a ``Command`` may write any message into state: an ``AIMessage`` that reads as if the
assistant had said it, a ``SystemMessage``, a ``HumanMessage``. Their text comes from the tool, so it is
as untrusted as the tool's answer: it is checked with the answer, in the same decision, and it is redacted
with it or dropped when the answer is withheld. Order is kept: providers require a tool call's answer to
follow the call, so our guarded answer takes the place of the tool's.

A Command's ``update`` comes in three shapes: a mapping, a list of ``(key, value)`` pairs (which LangGraph
applies in order) and, for a graph whose state is a list of messages, the list of messages itself. The
messages are read and put back in the shape the tool used, so a tool's other writes are never lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage
from langgraph.types import Command

from ._translate import message_text


def answers(message: Any, call_id: str) -> bool:
    return isinstance(message, ToolMessage) and message.tool_call_id == call_id


MESSAGES = "messages"


def _pairs(update: Any) -> bool:
    return isinstance(update, (list, tuple)) and all(
        isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in update)


def _message_list(update: Any) -> bool:
    return isinstance(update, (list, tuple)) and bool(update) and all(isinstance(m, BaseMessage) for m in update)


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def readable(update: Any) -> bool:
    """Whether the messages of a Command's ``update`` can be read and put back (see the module docstring)."""
    return update is None or isinstance(update, Mapping) or _pairs(update) or _message_list(update)


def update_messages(update: Any) -> list[Any]:
    """The messages a Command's ``update`` writes, in order, whatever its shape."""
    if isinstance(update, Mapping):
        return _listed(update[MESSAGES]) if MESSAGES in update else []
    if _pairs(update):
        return [m for k, v in update for m in (_listed(v) if k == MESSAGES else [])]
    if _message_list(update):
        return list(update)
    return []


def with_messages(update: Any, messages: Sequence[Any], extra: Mapping[str, Any] | None = None) -> Any:
    """``update`` writing ``messages`` instead of the ones it wrote (plus the keys in ``extra``), in its shape.

    Pairs keep their order; the messages go where the tool first wrote some. A list of messages takes keys
    only as a mapping: ``extra`` is for the adapters whose state is one (middleware, ``SecureToolNode``)."""
    extra = dict(extra or {})
    if _pairs(update):
        out: list[tuple[str, Any]] = []
        for key, value in update:
            if key != MESSAGES:
                out.append((key, value))
            elif not any(k == MESSAGES for k, _v in out):
                out.append((MESSAGES, list(messages)))
        if not any(k == MESSAGES for k, _v in out):
            out.append((MESSAGES, list(messages)))
        return [*out, *extra.items()]
    if _message_list(update) and not extra:
        return list(messages)
    rest = dict(update) if isinstance(update, Mapping) else {}
    return {**rest, MESSAGES: list(messages), **extra}


def added_messages(command: Command[Any] | None, call_id: str) -> list[BaseMessage]:
    """The messages with text that the tool's Command writes besides its answer to ``call_id``."""
    update = command.update if command is not None else None
    return [m for m in update_messages(update) if isinstance(m, BaseMessage) and not answers(m, call_id)
            and message_text(m, every_block=True).strip()]


def with_added(command: Command[Any], added: Sequence[BaseMessage],
               guarded: Sequence[BaseMessage] | None) -> Command[Any]:
    """The tool's Command with its added messages replaced by their guarded versions, or dropped (None)."""
    if not added:
        return command
    current = update_messages(command.update)
    if guarded is None:  # the answer was withheld: what the tool added goes with it
        messages = [m for m in current if not any(m is a for a in added)]
    else:
        swap = {id(old): new for old, new in zip(added, guarded, strict=True)}
        messages = [swap.get(id(m), m) for m in current]
    return Command(graph=command.graph, update=with_messages(command.update, messages), resume=command.resume,
                   goto=command.goto)


def in_place(messages: Sequence[Any], answer: ToolMessage) -> list[Any]:
    """``messages`` with ``answer`` where the tool's own answer to the same call was (appended if none)."""
    out: list[Any] = []
    placed = False
    for m in messages:
        if answers(m, answer.tool_call_id):
            if not placed:  # one answer per call, however many the tool wrote
                out.append(answer)
                placed = True
            continue
        out.append(m)
    return out if placed else [*out, answer]
