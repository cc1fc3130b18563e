"""``secure_graph``: put guard → approval → SecureToolNode where an existing graph runs its tools."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from langgraph.graph import StateGraph
from langgraph.prebuilt import ToolNode

from .._shield import Shield
from ._nodes import GUARD_NAME, AIRSGraphState, approval_node, guard_node
from ._tool_node import SecureToolNode

APPROVAL_NODE = "airs_approval"
EXECUTE_NODE = "airs_tools"


def secure_graph(builder: StateGraph[Any, Any, Any, Any], shield: Shield, *, model_node: str = "model",
                 tools_node: str = "tools") -> StateGraph[Any, Any, Any, Any]:
    """Insert AIRS between the model node and the tools node of an uncompiled ``StateGraph``.

    What it requires of the graph: ``tools_node`` is a ``ToolNode`` reading the ``messages`` key (its tools,
    tags, ``handle_tool_errors`` and ``wrap_tool_call``/``awrap_tool_call`` are taken over: the wrappers run
    inside the enforcement, on the decided call only; so is how the graph runs it, its retry and cache policies,
    timeout, error handler and metadata, while a deferred ``tools_node`` defers the guard), ``model_node``
    exists, and the state has a ``messages`` list with the ``add_messages`` reducer (e.g. ``MessagesState``).
    What it does, in place (the builder is also returned):

    * the node named ``tools_node`` becomes :func:`guard_node`, so every edge and route that led to
      the tools (``tools_condition``, a path map, a plain edge) now leads to the guard (a ``Send`` of tool
      calls to it is refused with an error saying how to route instead: the guard decides the calls of the
      last AIMessage in the state, and the secured node runs them all);
    * ``guard → airs_approval → airs_tools`` follow, where ``airs_approval`` is
      :func:`approval_node` and ``airs_tools`` is a :class:`SecureToolNode` with the same tools;
    * every edge and branch that left ``tools_node`` now leaves ``airs_tools``;
    * the ``airs_context``/``airs_decisions``/``airs_judge`` state keys are registered with their
      reducers. Compile with a checkpointer so approvals can pause and resume.

    It secures one ``ToolNode`` per call: a graph with several calls it once for each (``tools_node=...``);
    the first keeps the names ``airs_approval`` and ``airs_tools``, each further one gets its own
    (``airs_approval_<tools_node>``, ``airs_tools_<tools_node>``). A ``ToolNode`` it is not given runs
    its tools unguarded.
    """
    if model_node not in builder.nodes:
        msg = f"secure_graph: no node named {model_node!r} (pass model_node=...)"
        raise ValueError(msg)
    spec = builder.nodes.get(tools_node)
    node = spec.runnable if spec is not None else None
    if getattr(node, "name", None) == GUARD_NAME or isinstance(node, SecureToolNode):
        msg = f"secure_graph: node {tools_node!r} is already secured"
        raise ValueError(msg)
    if spec is None or not isinstance(node, ToolNode):
        plain = sorted(n for n, s in builder.nodes.items() if type(s.runnable) is ToolNode)
        msg = (f"secure_graph: node {tools_node!r} must be a langgraph.prebuilt.ToolNode "
               f"(the graph's ToolNodes: {', '.join(map(repr, plain)) or 'none'}; pass tools_node=..., or wire "
               "guard_node → approval_node → SecureToolNode yourself)")
        raise TypeError(msg)
    messages_key = getattr(node, "_messages_key", "messages")
    if messages_key != "messages":
        # the guard and approval nodes read the calls from ``messages``: the calls this node runs would
        # never be decided, and SecureToolNode would refuse them all
        msg = (f"secure_graph: ToolNode {tools_node!r} reads its messages from {messages_key!r}; the AIRS nodes "
               "read and write 'messages' (MessagesState / AIRSGraphState)")
        raise ValueError(msg)
    approval, execute = _names(builder, tools_node)
    tools = list(node.tools_by_name.values())
    secured = SecureToolNode(tools, shield, name=execute, tags=list(node.tags or ()) or None,
                             handle_tool_errors=getattr(node, "_handle_tool_errors", None),
                             wrap_tool_call=getattr(node, "_wrap_tool_call", None),
                             awrap_tool_call=getattr(node, "_awrap_tool_call", None))
    del builder.nodes[tools_node]
    builder.edges = {(execute if a == tools_node else a, b) for a, b in builder.edges}
    if tools_node in builder.branches:
        builder.branches[execute] = builder.branches.pop(tools_node)
    builder.waiting_edges = {(tuple(execute if s == tools_node else s for s in starts), end)
                             for starts, end in builder.waiting_edges}
    builder.add_node(tools_node, guard_node(shield), input_schema=AIRSGraphState, defer=spec.defer)
    builder.add_node(approval, approval_node(shield), input_schema=AIRSGraphState)
    builder.add_node(execute, secured, input_schema=AIRSGraphState)
    builder.nodes[execute] = replace(builder.nodes[execute], **_how_it_ran(spec))
    builder.add_edge(tools_node, approval)
    builder.add_edge(approval, execute)
    return builder


_NOT_CARRIED = frozenset({"runnable", "input_schema", "ends", "defer", "is_error_handler"})
"""What the node that runs the tools does not take over from the ToolNode's spec: the node itself, its state, the
``Command`` destinations it drew (a ToolNode has none) and where it sits in the run (the guard takes that place)."""


def _how_it_ran(spec: Any) -> dict[str, Any]:
    """How LangGraph ran the ToolNode (its retry and cache policies, timeout, error handler, metadata, and what
    else this LangGraph version keeps per node), for the node that runs the tools now."""
    return {f.name: getattr(spec, f.name) for f in fields(spec) if f.name not in _NOT_CARRIED}


def _names(builder: StateGraph[Any, Any, Any, Any], tools_node: str) -> tuple[str, str]:
    """The approval and execution nodes' names for ``tools_node`` (see :func:`secure_graph`)."""
    names = (APPROVAL_NODE, EXECUTE_NODE)
    if any(n in builder.nodes for n in names):
        names = (f"{APPROVAL_NODE}_{tools_node}", f"{EXECUTE_NODE}_{tools_node}")
    taken = [n for n in names if n in builder.nodes]
    if taken:
        msg = f"secure_graph: the graph already has a node named {taken[0]!r}"
        raise ValueError(msg)
    return names
