"""LangGraph adapters for hand-built graphs: ``input_guard_node`` reads the user's input, ``guard_node`` decides,
``approval_node`` asks a human,
``SecureToolNode`` enforces and fails closed, ``judge_node`` grades answers; ``secure_graph``
wires the first three into an existing graph.

>>> from airs_plugins import Shield
>>> from airs_plugins.langgraph import guard_node
>>> node = guard_node(Shield.default())
"""

from .._extras import require

require("airs_plugins.langgraph", extra="langgraph")

from ._nodes import (  # noqa: E402
    AIRSGraphState,
    approval_node,
    guard_node,
    input_guard_node,
    input_route,
    judge_node,
    judge_route,
)
from ._secure import secure_graph  # noqa: E402
from ._tool_node import SecureToolNode  # noqa: E402

__all__ = ["AIRSGraphState", "SecureToolNode", "approval_node", "guard_node", "input_guard_node", "input_route",
           "judge_node", "judge_route", "secure_graph"]
