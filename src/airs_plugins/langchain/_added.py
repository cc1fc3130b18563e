"""Messages a tool adds to the conversation besides its own answer (``Command(update={"messages": [...]})``).

A tool that returns a ``Command`` may write any message into state: an ``AIMessage`` that reads as if the
assistant had said it, a ``SystemMessage``, a ``HumanMessage``. Their text comes from the tool, so it is
as untrusted as the tool's answer: it is checked with the answer, in the same decision, and it is redacted
with it or dropped when the answer is withheld. Order is kept: providers require a tool call's answer to
follow the call, so our guarded answer takes the place of the tool's.

A Command's ``update`` comes in three shapes: a mapping, a list of ``(key, value)`` pairs (which LangGraph
applies in order) and, for a graph whose state is a list of messages, the list of messages itself. The
messages are read and put back in the shape the tool used, so a tool's other writes are never lost.

A tool may also return a list of ``ToolMessage`` and ``Command`` items (``ToolNode`` accepts one holding exactly
one answer to the call); its messages are those of its items, in order, and the list stays a list.

The values a Command writes to the other state keys come from the tool too, and reach the model as surely as a
message does (a ``dynamic_prompt`` that puts ``state["notes"]`` into the system prompt, as LangChain's guide to
tools that update state does): they are read with the answer as well (see :func:`state_writes`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeAlias

from langchain_core.messages import BaseMessage, ToolMessage
from langgraph.types import Command

from ._foreign import read_text


def answers(message: Any, call_id: str) -> bool:
    return isinstance(message, ToolMessage) and message.tool_call_id == call_id


MESSAGES = "messages"
Returned: TypeAlias = "Command[Any] | list[ToolMessage | Command[Any]]"
"""What a tool returned that writes more than its answer: a Command, or a list of ToolMessages and Commands."""


def tool_list(out: Any) -> bool:
    """Whether ``out`` is a list of ToolMessages and Commands, which ``ToolNode`` accepts from a tool."""
    return isinstance(out, list) and bool(out) and all(isinstance(i, (ToolMessage, Command)) for i in out)


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


def returned_messages(returned: Returned | None) -> list[Any]:
    """The messages a tool's Command (or list) writes, in order."""
    if returned is None:
        return []
    if isinstance(returned, Command):
        return update_messages(returned.update)
    return [m for item in returned for m in ([item] if isinstance(item, ToolMessage) else update_messages(item.update))]


def _with_command_messages(command: Command[Any], messages: Sequence[Any]) -> Command[Any]:
    return Command(graph=command.graph, update=with_messages(command.update, messages), resume=command.resume,
                   goto=command.goto)


def _mapped(returned: Returned, swap: Callable[[Any], list[Any]]) -> Returned:
    """``returned`` with each message ``m`` it writes replaced by ``swap(m)`` (none, itself, or another), in the
    shape the tool used; a list's Commands whose messages did not change are kept as they are."""
    if isinstance(returned, Command):
        return _with_command_messages(returned, [n for m in update_messages(returned.update) for n in swap(m)])
    out: list[Any] = []
    for item in returned:
        if isinstance(item, ToolMessage):
            out.extend(swap(item))
            continue
        old = update_messages(item.update)
        new = [n for m in old for n in swap(m)]
        same = len(new) == len(old) and all(a is b for a, b in zip(old, new, strict=True))
        out.append(item if same else _with_command_messages(item, new))
    return out


def added_messages(returned: Returned | None, call_id: str) -> list[BaseMessage]:
    """The messages with something to read that the tool's Command (or list) writes besides its answer to
    ``call_id``: text, or calls (an ``AIMessage`` restoring a past turn, whose arguments the model reads as its own
    earlier calls)."""
    return [m for m in returned_messages(returned) if isinstance(m, BaseMessage) and not answers(m, call_id)
            and added_text(m).strip()]


def added_text(message: BaseMessage) -> str:
    """What the model reads of a message a tool added: its text, and the calls it makes."""
    return read_text(message)


def with_added(returned: Returned, added: Sequence[BaseMessage], guarded: Sequence[BaseMessage] | None) -> Returned:
    """The tool's Command (or list) with its added messages replaced by their guarded versions, or dropped
    (None: the answer was withheld, and what the tool added goes with it)."""
    if not added:
        return returned
    if guarded is None:
        # the answers to the calls of a dropped message go with it: left alone, they would answer no call
        gone = {c.get("id") for a in added for c in (getattr(a, "tool_calls", None) or ())}
        return _mapped(returned, lambda m: [] if any(m is a for a in added)
                       or (isinstance(m, ToolMessage) and m.tool_call_id in gone) else [m])
    new = {id(old): g for old, g in zip(added, guarded, strict=True)}
    return _mapped(returned, lambda m: [new.get(id(m), m)])


def placed(returned: Returned, answer: ToolMessage) -> Returned:
    """The tool's Command (or list) with ``answer`` where the tool's own answer to the same call was, once
    however many the tool wrote (appended if none: to a Command's messages, or to a list)."""
    found: list[Any] = []

    def swap(m: Any) -> list[Any]:
        if not answers(m, answer.tool_call_id):
            return [m]
        found.append(m)
        return [answer] if len(found) == 1 else []

    out = _mapped(returned, swap)
    if found:
        return out
    if isinstance(out, Command):
        return _with_command_messages(out, [*update_messages(out.update), answer])
    return [*out, answer]


DROPPED: Any = object()
"""A state write taken out of a tool's Command (see :func:`with_state_writes`)."""


def _writes(update: Any) -> list[Any]:
    if isinstance(update, Mapping):
        return [v for k, v in update.items() if k != MESSAGES]
    if _pairs(update):
        return [v for k, v in update if k != MESSAGES]
    return []


def state_writes(returned: Returned | None) -> list[Any]:
    """The values a tool's Command (or list) writes to state keys other than ``messages``, in order."""
    if returned is None:
        return []
    commands = [returned] if isinstance(returned, Command) else [i for i in returned if isinstance(i, Command)]
    return [v for c in commands if readable(c.update) for v in _writes(c.update)]


def _with_writes(command: Command[Any], feed: Iterator[Any]) -> Command[Any]:
    update: Any = command.update
    if not isinstance(update, Mapping) and not _pairs(update):
        return command
    pairs = [(k, v if k == MESSAGES else next(feed)) for k, v in (update.items() if isinstance(update, Mapping)
                                                                   else update)]
    kept = [(k, v) for k, v in pairs if v is not DROPPED]
    new: Any = dict(kept) if isinstance(update, Mapping) else kept
    return Command(graph=command.graph, update=new, resume=command.resume, goto=command.goto)


def with_state_writes(returned: Returned, values: Sequence[Any]) -> Returned:
    """The tool's Command (or list) writing ``values`` (one for each of :func:`state_writes`, in order;
    :data:`DROPPED` leaves that key out) to its state keys."""
    if not state_writes(returned):
        return returned
    feed = iter(values)
    if isinstance(returned, Command):
        return _with_writes(returned, feed)
    return [_with_writes(i, feed) if isinstance(i, Command) and readable(i.update) else i for i in returned]


def without_key(returned: Returned, key: str) -> Returned:
    """The tool's Command (or list) without its writes to ``key``."""
    if isinstance(returned, list):
        return [_command_without(i, key) if isinstance(i, Command) else i for i in returned]
    return _command_without(returned, key)


def _command_without(command: Command[Any], key: str) -> Command[Any]:
    update: Any = command.update
    if isinstance(update, Mapping) and key in update:
        update = {k: v for k, v in update.items() if k != key}
    elif _pairs(update) and any(k == key for k, _v in update):
        update = [(k, v) for k, v in update if k != key]
    else:
        return command
    return Command(graph=command.graph, update=update, resume=command.resume, goto=command.goto)
