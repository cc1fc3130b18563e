"""``secure_graph``: put guard → approval → SecureToolNode where an existing graph runs its tools."""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph
from langgraph.prebuilt import ToolNode

from .._shield import Shield
from ._nodes import AIRSGraphState, approval_node, guard_node
from ._tool_node import SecureToolNode

APPROVAL_NODE = "airs_approval"
EXECUTE_NODE = "airs_tools"


def secure_graph(builder: StateGraph[Any, Any, Any, Any], shield: Shield, *, model_node: str = "model",
                 tools_node: str = "tools") -> StateGraph[Any, Any, Any, Any]:
    """Insert AIRS between the model node and the tools node of an uncompiled ``StateGraph``.

    What it requires of the graph: ``tools_node`` is a ``ToolNode`` reading the ``messages`` key (its tools,
    tags and ``handle_tool_errors`` are taken over), ``model_node`` exists, and the state has a ``messages``
    list with the ``add_messages`` reducer (e.g. ``MessagesState``). What it does, in place (the builder is
    also returned):

    * the node named ``tools_node`` becomes :func:`guard_node`, so every edge and route that led to
      the tools (``tools_condition``, a path map, a plain edge) now leads to the guard;
    * ``guard → airs_approval → airs_tools`` follow, where ``airs_approval`` is
      :func:`approval_node` and ``airs_tools`` is a :class:`SecureToolNode` with the same tools;
    * every edge and branch that left ``tools_node`` now leaves ``airs_tools``;
    * the ``airs_context``/``airs_decisions``/``airs_judge`` state keys are registered with their
      reducers. Compile with a checkpointer so approvals can pause and resume.
    """
    if model_node not in builder.nodes:
        msg = f"secure_graph: no node named {model_node!r} (pass model_node=...)"
        raise ValueError(msg)
    if APPROVAL_NODE in builder.nodes or EXECUTE_NODE in builder.nodes:
        msg = "secure_graph: the graph is already secured"
        raise ValueError(msg)
    spec = builder.nodes.get(tools_node)
    if spec is None or not isinstance(spec.runnable, ToolNode):
        msg = (f"secure_graph: node {tools_node!r} must be a langgraph.prebuilt.ToolNode "
               "(pass tools_node=..., or wire guard_node → approval_node → SecureToolNode yourself)")
        raise TypeError(msg)
    node = spec.runnable
    messages_key = getattr(node, "_messages_key", "messages")
    if messages_key != "messages":
        # the guard and approval nodes read the calls from ``messages``: the calls this node runs would
        # never be decided, and SecureToolNode would refuse them all
        msg = (f"secure_graph: ToolNode {tools_node!r} reads its messages from {messages_key!r}; the AIRS nodes "
               "read and write 'messages' (MessagesState / AIRSGraphState)")
        raise ValueError(msg)
    tools = list(node.tools_by_name.values())
    secured = SecureToolNode(tools, shield, name=EXECUTE_NODE, tags=list(node.tags or ()) or None,
                             handle_tool_errors=getattr(node, "_handle_tool_errors", None))
    del builder.nodes[tools_node]
    builder.edges = {(EXECUTE_NODE if a == tools_node else a, b) for a, b in builder.edges}
    if tools_node in builder.branches:
        builder.branches[EXECUTE_NODE] = builder.branches.pop(tools_node)
    builder.waiting_edges = {(tuple(EXECUTE_NODE if s == tools_node else s for s in starts), end)
                             for starts, end in builder.waiting_edges}
    builder.add_node(tools_node, guard_node(shield), input_schema=AIRSGraphState)
    builder.add_node(APPROVAL_NODE, approval_node(shield), input_schema=AIRSGraphState)
    builder.add_node(EXECUTE_NODE, secured, input_schema=AIRSGraphState)
    builder.add_edge(tools_node, APPROVAL_NODE)
    builder.add_edge(APPROVAL_NODE, EXECUTE_NODE)
    return builder
