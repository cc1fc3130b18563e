"""Messages a tool adds to the conversation besides its own answer (``Command(update={"messages": [...]})``).

A tool that returns a ``Command`` may write any message into state: an ``AIMessage`` that reads as if the
assistant had said it, a ``SystemMessage``, a ``HumanMessage``. Their text comes from the tool, so it is
as untrusted as the tool's answer: it is checked with the answer, in the same decision, and it is redacted
with it or dropped when the answer is withheld. Order is kept: providers require a tool call's answer to
follow the call, so our guarded answer takes the place of the tool's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage
from langgraph.types import Command

from ._translate import message_text


def answers(message: Any, call_id: str) -> bool:
    return isinstance(message, ToolMessage) and message.tool_call_id == call_id


def added_messages(command: Command[Any] | None, call_id: str) -> list[BaseMessage]:
    """The messages with text that the tool's Command writes besides its answer to ``call_id``."""
    update = command.update if command is not None else None
    if not isinstance(update, Mapping):
        return []
    return [m for m in update.get("messages", []) if isinstance(m, BaseMessage) and not answers(m, call_id)
            and message_text(m, every_block=True).strip()]


def with_added(command: Command[Any], added: Sequence[BaseMessage],
               guarded: Sequence[BaseMessage] | None) -> Command[Any]:
    """The tool's Command with its added messages replaced by their guarded versions, or dropped (None)."""
    update = command.update
    if not isinstance(update, Mapping) or not added:
        return command
    current = list(update.get("messages", []))
    if guarded is None:  # the answer was withheld: what the tool added goes with it
        messages = [m for m in current if not any(m is a for a in added)]
    else:
        swap = {id(old): new for old, new in zip(added, guarded, strict=True)}
        messages = [swap.get(id(m), m) for m in current]
    return Command(graph=command.graph, update={**update, "messages": messages}, resume=command.resume,
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
