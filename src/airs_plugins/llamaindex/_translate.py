"""LlamaIndex objects → what ``Shield.check_*`` takes. No decisions are made here."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from .._canonical import call_digest, canonical_args
from .._decision import append_goal
from .._shield import stringify
from .._words import split_words, with_words, words


def current_tool_id(tool_name: str) -> str | None:
    """The LLM's tool call id of the ``ToolCall`` event the running step is handling, if any.

    The agent calls the tool with its kwargs only; the id sits on the step's event, which the
    workflow runtime keeps in a context variable. A private seam, so every failure means "unknown"
    and the caller falls back to a digest of the call.
    """
    try:
        from workflows.runtime.types.results import StepWorkerStateContextVar

        event = StepWorkerStateContextVar.get().event
    except (ImportError, LookupError, AttributeError):
        return None
    if getattr(event, "tool_name", None) != tool_name:
        return None
    tool_id = getattr(event, "tool_id", None)
    return str(tool_id) if tool_id else None


def current_work_item(base: str) -> str | None:
    """Which piece of the workflow's work this call is: the running step, its work item, and how many
    calls with identity ``base`` this invocation of the step made before.

    The runtime keeps a work item through every replay of its step (after a waited-for event arrives, once
    per matching event, and after a restore) and gives every other event its own, so two calls in flight
    with one identity are told apart, and a replay finds the call it replays. A private seam like
    :func:`current_tool_id`: None means unknown.
    """
    try:
        from workflows.runtime.types.results import StepWorkerStateContextVar

        worker = StepWorkerStateContextVar.get()
        step, item = worker.state.step_name, worker.state.work_item_id
    except (ImportError, LookupError, AttributeError):
        return None
    if not item:
        return None
    return f"{step}/{item}/{_occurrence(worker, base)}:{base}"


# per step invocation (its worker context object, alive while the step runs): calls made so far, by base
_SEEN: dict[int, tuple[weakref.ref[Any], dict[str, int]]] = {}


def _occurrence(worker: Any, base: str) -> int:
    key = id(worker)
    held = _SEEN.get(key)
    if held is None or held[0]() is not worker:
        def gone(ref: weakref.ref[Any], key: int = key) -> None:
            if (h := _SEEN.get(key)) is not None and h[0] is ref:
                del _SEEN[key]

        held = (weakref.ref(worker, gone), {})
        _SEEN[key] = held
    n = held[1].get(base, 0)
    held[1][base] = n + 1
    return n


def call_base(tool_name: str, args: dict[str, Any], tool_id: str | None) -> str:
    """A stable identity for one call: the LLM's id (when reachable) plus a digest of name and args.

    The digest keeps two calls apart when a model (or a scripted one) reuses an id; the caller
    appends a sequence number so a legitimate repeat of the same call gets its own ledger row.
    """
    return f"{tool_id or 'call'}:{call_digest(tool_name, canonical_args(args))}"


def message_text(message: Any) -> str:
    """Text of a ``ChatMessage``, an ``AgentOutput`` (its ``response``) or a plain value."""
    response = getattr(message, "response", None)
    if response is not None and hasattr(response, "content"):
        message = response
    content = getattr(message, "content", None)
    if isinstance(content, str):
        return content
    if content is None and hasattr(message, "blocks"):
        return "".join(getattr(b, "text", "") for b in message.blocks)
    return stringify(message)


def message_words(message: Any) -> str:
    """Every word a model reads in a ``ChatMessage``: the text blocks, as ``content`` joins them, and what
    ``content`` leaves out (a cited document's text, a thinking block, a tool call's arguments, in blocks or in
    ``additional_kwargs``)."""
    if not getattr(message, "blocks", None):
        return message_text(message)
    return "\n".join(w for part in _word_parts(message) for w in words(part))


def _word_parts(message: Any) -> list[Any]:
    """What :func:`message_words` reads, in order: each block's dump, then ``additional_kwargs`` when set."""
    parts: list[Any] = [b.model_dump() if hasattr(b, "model_dump") else b for b in message.blocks]
    extra = getattr(message, "additional_kwargs", None)
    return [*parts, extra] if extra else parts


def with_message_words(message: Any, redacted: str) -> Any:
    """``message`` (a ``ChatMessage`` with blocks) with ``redacted``, the guard's redaction of
    :func:`message_words`, put back word by word: every block stays what it was (a tool call a tool call, an
    image an image) with its own words redacted. None when that cannot be done safely: a redaction ran from
    one word into the next, or a block refuses its redacted words (then only the redacted text can go on)."""
    from pydantic import ValidationError

    if not getattr(message, "blocks", None):
        return None
    parts = _word_parts(message)
    read = [words(part) for part in parts]
    texts = split_words(redacted, [w for ws in read for w in ws])
    if texts is None:
        return None
    rebuilt: list[Any] = []
    at = 0
    for i, (part, ws) in enumerate(zip(parts, read, strict=True)):
        mine, at = texts[at:at + len(ws)], at + len(ws)
        original = message.blocks[i] if i < len(message.blocks) else part
        if mine == ws:
            rebuilt.append(original)
            continue
        new = with_words(part, mine)
        try:
            rebuilt.append(type(original).model_validate(new) if hasattr(original, "model_validate") else new)
        except ValidationError:
            return None
    update: dict[str, Any] = {"blocks": rebuilt[:len(message.blocks)]}
    if len(rebuilt) > len(message.blocks):
        update["additional_kwargs"] = rebuilt[-1]
    return message.model_copy(update=update)


def raw_input_of(args: Mapping[str, Any]) -> dict[str, Any]:
    """A ``ToolOutput.raw_input`` (``FunctionTool``'s shape) holding the arguments a call was decided on. The inner
    tool's own holds its bound ``partial_params`` too (an API key kept from the model), and whoever reads the
    output on the event stream would read them."""
    return {"args": (), "kwargs": dict(args)}


def merge_goal(goal: str | None, user_msg: str | None) -> str | None:
    """Add the run's user message to the goal once (the taint check exempts what the user asked for)."""
    if not user_msg:
        return goal
    if goal and user_msg in goal:
        return goal
    return append_goal(goal, user_msg)
