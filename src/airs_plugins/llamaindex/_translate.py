"""LlamaIndex objects → what ``Shield.check_*`` takes. No decisions are made here."""

from __future__ import annotations

from typing import Any

from .._canonical import call_digest, canonical_args
from .._decision import append_goal
from .._shield import stringify


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


def merge_goal(goal: str | None, user_msg: str | None) -> str | None:
    """Add the run's user message to the goal once (the taint check exempts what the user asked for)."""
    if not user_msg:
        return goal
    if goal and user_msg in goal:
        return goal
    return append_goal(goal, user_msg)
