"""Decision → what a LlamaIndex agent understands.

``BaseWorkflowAgent._call_tool`` turns any exception a tool raises into ``ToolOutput(is_error=True)``
whose text the model reads, so a refusal is a raise; only the workflow's "waiting for event" control
exception passes through, which is how an approval pauses the run.
"""

from __future__ import annotations

from .._decision import Action, Decision
from .._errors import AIRSError, Blocked


class ToolRefusedError(AIRSError, RuntimeError):
    """A guarded call was not run, or its output withheld, when no fresh Decision is at hand
    (a replay of a recorded refusal, or an execution whose earlier outcome is unknown)."""


class ToolFailedError(AIRSError, RuntimeError):
    """A guarded tool raised, and its message is passed on as the guard rewrote it (redacted)."""


def refuse_call(decision: Decision) -> Blocked:
    """The exception for a call that must not run; its text is what the model sees."""
    who = "a reviewer" if decision.approval is not None else "AIRS"
    why = decision.reason or decision.action.value
    text = (f"Tool call {decision.tool_name!r} was not run: {who} refused it ({why}). "
            f"Do not retry it with the same arguments. [correlation_id={decision.correlation_id}]")
    return Blocked(decision, text)


def withhold_output(decision: Decision, tool_name: str | None = None) -> Blocked:
    what = "blocked" if decision.action is Action.BLOCK else "held for review"
    name = tool_name or decision.tool_name
    text = (f"The output of {name!r} was {what} by AIRS ({decision.reason or 'policy'}); "
            f"treat the tool as having failed. [correlation_id={decision.correlation_id}]")
    return Blocked(decision, text)


def no_reviewer(decision: Decision) -> Blocked:
    text = (f"Tool call {decision.tool_name!r} needs human approval ({decision.reason}), but it was called "
            "outside a LlamaIndex workflow, so nobody can be asked; it was not run. "
            f"[correlation_id={decision.correlation_id}]")
    return Blocked(decision, text)


def unknown_outcome(tool_name: str) -> ToolRefusedError:
    return ToolRefusedError(
        f"Tool call {tool_name!r} started earlier and its outcome was never recorded (the process may have "
        "stopped mid-call); it is not run again automatically. Ask the user to check and retry explicitly.")


def run_args(decision: Decision, args: dict[str, object]) -> dict[str, object]:
    """The arguments to run with: the reviewer's edit or the guard's redaction when enforced."""
    if decision.enforced and decision.action is Action.REDACT and decision.redacted_args is not None:
        return dict(decision.redacted_args)
    return args


def result_content(decision: Decision, text: str) -> str | None:
    """The redacted output when the guard rewrote it (also when it waits for a reviewer: an approval releases
    it redacted), else None (keep the tool's own output)."""
    return decision.rewritten

