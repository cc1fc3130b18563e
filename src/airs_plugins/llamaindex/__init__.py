"""LlamaIndex adapters: guarded tools, approval events, a guard workflow and an audit handler.

* :func:`guard_tools` – wrapper ``FunctionTool``s (``FunctionAgent``, ``ReActAgent``, ``AgentWorkflow``)
  that check every call before it runs and every result after it, pause for approval with
  :class:`ApprovalRequired` / :class:`ApprovalResponse`, and execute each approved call once;
* :func:`guard_handoffs` – the same for the ``handoff`` tool an ``AgentWorkflow`` builds itself;
* :func:`guard_code_act` – the same for the ``execute`` tool a ``CodeActAgent`` builds itself (the code it runs);
* :func:`save_context` / :func:`load_context` / :func:`pending_approvals` – persist a paused run
  (``JsonPickleSerializer``, HMAC-signed) and resume it in another process;
* :class:`AIRSWorkflow` – input guard → agent → output guard + judge → approval, as workflow steps
  (``guard_input``, ``guard_history``, ``guard_output``, ``request_approval``, ``resolve_answer`` for your
  own steps);
* :class:`AIRSNodePostprocessor` – the retrieved nodes of a query or chat engine, decided before its LLM reads them;
* :class:`AIRSEventHandler` – instrumentation → flight recorder (observes, cannot block).
"""

from airs_plugins._extras import require

require("airs_plugins.llamaindex", extra="llamaindex")

# ruff: noqa: E402 - the extras check must run before any framework import
from .._errors import SignatureError
from ._events import (
    AgentAnswered,
    ApprovalRefused,
    ApprovalRequired,
    ApprovalResponse,
    InputChecked,
    OutputChecked,
)
from ._handler import AIRSEventHandler, AIRSSpanHandler
from ._persist import load_context, pending_approvals, save_context
from ._postprocessor import AIRSNodePostprocessor
from ._steps import (
    guard_history,
    guard_input,
    guard_output,
    refusal_text,
    released_text,
    request_approval,
    resolve_answer,
)
from ._tools import GuardedTool, guard_code_act, guard_handoffs, guard_tools
from ._workflow import AIRSWorkflow, GuardResult

__all__ = [
    "AIRSEventHandler",
    "AIRSNodePostprocessor",
    "AIRSSpanHandler",
    "AIRSWorkflow",
    "AgentAnswered",
    "ApprovalRefused",
    "ApprovalRequired",
    "ApprovalResponse",
    "GuardResult",
    "GuardedTool",
    "InputChecked",
    "OutputChecked",
    "SignatureError",
    "guard_code_act",
    "guard_handoffs",
    "guard_history",
    "guard_input",
    "guard_output",
    "guard_tools",
    "load_context",
    "pending_approvals",
    "refusal_text",
    "released_text",
    "request_approval",
    "resolve_answer",
    "save_context",
]
