"""``create_agent(response_format=...)``: a structured answer is the model's output, not a tool call.

With ``ProviderStrategy`` the answer is the message text (JSON) and the output guard sees it as text;
a redaction of that text must reach ``structured_response`` too, which was parsed before the guard ran.

With ``ToolStrategy`` (and ``AutoStrategy`` when it resolves to tools) the model answers by calling a
tool named after the schema, and the model node itself parses the arguments into
``structured_response`` and answers the call with a ToolMessage. No tool runs. So the output guard
checks those arguments as the answer, a block withdraws the answer *and* the structured response,
and a redaction rewrites both. A call is recognised by being answered inside the model's response
(only the model node does that), so no schema name has to be matched.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from pydantic import BaseModel, ValidationError

from .._canonical import canonical_args

STRUCTURED_KEY = "structured_response"
_DEFAULT_CONTENT = "Returning structured response: "
"""How ``create_agent`` answers a structured call unless ``ToolStrategy(tool_message_content=...)``."""


def answered_calls(result: Sequence[BaseMessage]) -> frozenset[str]:
    """Ids of the tool calls the model node answered itself (structured output, or its parse errors)."""
    return frozenset(m.tool_call_id for m in result if isinstance(m, ToolMessage))


def split_calls(ai: AIMessage, answered: frozenset[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(structured answers, tool calls to run)."""
    structured = [dict(c) for c in ai.tool_calls if c.get("id") in answered]
    return structured, [dict(c) for c in ai.tool_calls if c.get("id") not in answered]


def output_payload(text: str, structured: Sequence[Mapping[str, Any]]) -> str:
    """The text the output guard checks: the message text, then one line of JSON per structured answer
    (canonical JSON has no raw newline, so the lines can be told apart after a redaction)."""
    parts = [text] if text.strip() else []
    parts.extend(canonical_args(c.get("args") or {}) for c in structured)
    return "\n".join(parts)


def split_redacted(redacted: str, has_text: bool, count: int) -> tuple[str, list[dict[str, Any]]] | None:
    """Undo :func:`output_payload` on the redacted payload; None when the redaction broke a JSON line
    (then the answer cannot be rewritten safely and is withheld)."""
    pieces = redacted.rsplit("\n", count) if has_text else ["", *redacted.split("\n")]
    if len(pieces) != count + 1:
        return None
    args: list[dict[str, Any]] = []
    for line in pieces[1:]:
        try:
            parsed = json.loads(line)
        except ValueError:
            return None
        if not isinstance(parsed, dict):
            return None
        args.append(parsed)
    return pieces[0], args


def provider_args(message: AIMessage) -> dict[str, Any] | None:
    """The fields of a ``ProviderStrategy`` answer: the message text is the JSON object itself."""
    text = message.text if isinstance(message.text, str) else str(message.content)
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def reparsed(old: Any, args: dict[str, Any]) -> tuple[bool, Any]:
    """The structured response rebuilt from redacted arguments, as the same type as ``old``."""
    try:
        if isinstance(old, BaseModel):
            return True, type(old).model_validate(args)
        if dataclasses.is_dataclass(old) and not isinstance(old, type):
            return True, type(old)(**args)
    except (ValidationError, TypeError, ValueError):
        return False, None
    if isinstance(old, dict):
        return True, args
    return False, None


def rewritten_answers(result: Sequence[BaseMessage], new_args: Mapping[str, dict[str, Any]],
                      response: Any) -> list[BaseMessage]:
    """The model node's ToolMessages for redacted structured calls, saying the redacted response."""
    return [m.model_copy(update={"content": f"{_DEFAULT_CONTENT}{response}"})
            if isinstance(m, ToolMessage) and m.tool_call_id in new_args and str(m.content).startswith(_DEFAULT_CONTENT)
            else m for m in result]


def with_args(ai: AIMessage, content: Any, new_args: Mapping[str, dict[str, Any]]) -> AIMessage:
    calls = [{**c, "args": new_args[str(c.get("id"))]} if c.get("id") in new_args else c for c in ai.tool_calls]
    return ai.model_copy(update={"content": content, "tool_calls": calls})
