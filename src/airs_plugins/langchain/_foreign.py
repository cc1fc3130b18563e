"""Messages an agent finds in its state that it did not write: another agent's answers and tool results.

In a multi-agent graph (a supervisor and its workers as nodes, a swarm, a handoff with
``Command(goto=..., graph=Command.PARENT)``) each ``create_agent`` agent starts from the messages the
parent graph hands it. Those written by another agent carry what that agent read (an e-mail, a web page)
and what it made of it; a parent state without the AIRS keys (``MessagesState``) does not carry that agent's
taint along. So the input guard reads them as untrusted content, as ``AIRSWorkflow`` reads a caller's chat
history: an injection in them is withheld from the model, and the values in them taint the calls that
reuse them, as they would have in the agent that read them.

The agent's own messages are not read again: the middleware marks each one it writes (the model's answers,
its tool results, its refusals) as checked, and only messages after the newest checked one are new.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from .._canonical import canonical_args
from .._decision import Decision
from ._translate import message_text


def newest_checked(messages: Sequence[Any], checked: set[str]) -> int:
    """The index of the newest message whose id is checked (-1 when none is)."""
    return next((i for i in range(len(messages) - 1, -1, -1) if messages[i].id in checked), -1)


def unread(messages: Sequence[Any], checked: set[str], since: int) -> list[Any]:
    """The messages after ``since`` that neither the user nor this agent wrote, and that were not read yet."""
    return [m for m in messages[since + 1:] if m.id and m.id not in checked
            and not isinstance(m, (HumanMessage, SystemMessage))]


def read_text(message: Any) -> str:
    """What the model reads of ``message``: every block of it, and the calls an AIMessage makes (the task a
    supervisor writes in a handoff's arguments is an instruction to the agent that reads it)."""
    parts = [message_text(message, every_block=True)]
    for call in getattr(message, "tool_calls", None) or ():
        parts.append(f"{call.get('name')}({canonical_args(call.get('args') or {})})")
    return "\n".join(p for p in parts if p.strip())


def source_of(message: Any) -> str:
    """Where the read came from, for the audit: ``message:ai:<agent>``, ``message:tool:<tool>``."""
    name = getattr(message, "name", None)
    return f"message:{message.type}:{name}" if name else f"message:{message.type}"


def withheld(message: Any, decision: Decision, passed: str | None) -> Any:
    """``message`` as the agent may read it after ``decision``: redacted in place when it is plain text, else
    (blocked, waiting for a reviewer nobody is asked for here, or blocks and calls a redaction cannot be put
    back into) its words withheld. An AIMessage's calls stay, so that their results stay paired, without
    their arguments."""
    calls = list(getattr(message, "tool_calls", None) or ())
    if passed is not None and not calls and isinstance(message.content, str):
        return _copy(message, {"content": passed})
    update: dict[str, Any] = {
        "content": f"[AIRS withheld a message this agent did not write: {decision.reason or 'unsafe content'}]"}
    if isinstance(message, AIMessage) and calls:
        update["tool_calls"] = [{**c, "args": {}} for c in calls]
        # a provider's raw copy of the calls would otherwise still carry the arguments
        update["additional_kwargs"] = {k: v for k, v in message.additional_kwargs.items()
                                       if k not in ("tool_calls", "function_call")}
    return _copy(message, update)


def _copy(message: Any, update: dict[str, Any]) -> Any:
    if isinstance(message, ToolMessage):
        update = {**update, "artifact": None}  # what it holds is the result's raw form
    return message.model_copy(update=update)
