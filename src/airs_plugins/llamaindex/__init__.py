"""LlamaIndex adapters: guarded tools, approval events, a guard workflow and an audit handler.

>>> from airs_plugins.llamaindex import guard_tools, AIRSWorkflow, AIRSEventHandler  # doctest: +SKIP
"""

from airs_plugins._extras import require

require("airs_plugins.llamaindex", extra="llamaindex")

from ._events import AgentAnswered, ApprovalRequired, ApprovalResponse, InputChecked, OutputChecked  # noqa: E402
from ._tools import GuardedTool, guard_tools  # noqa: E402

__all__ = [
    "AgentAnswered",
    "ApprovalRequired",
    "ApprovalResponse",
    "GuardedTool",
    "InputChecked",
    "OutputChecked",
    "guard_tools",
]
