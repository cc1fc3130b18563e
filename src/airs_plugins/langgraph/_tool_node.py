"""``SecureToolNode``: a ``ToolNode`` that enforces recorded decisions and fails closed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.prebuilt import ToolNode
from langgraph.prebuilt.tool_node import AsyncToolCallWrapper, ToolCallRequest, ToolCallWrapper
from langgraph.types import Command

from .._shield import Shield
from ..langchain._enforce import (
    ToolOutcome,
    ToolOutput,
    areported,
    pinned_turn,
    reported,
    tool_call_flow,
    with_checked,
)
from ..langchain._flow import Flow
from ..langchain._toolstream import ToolStream
from ..langchain._translate import (
    DECISIONS_KEY,
    context_in,
    current_config,
    last_turn,
    message_records,
    state_get,
    thread_id_of,
)


class SecureToolNode(ToolNode):
    """A ``ToolNode`` whose every call is enforced against ``airs_decisions`` in state.

    * no decision recorded for the call id, *this tool and these exact arguments*, made for the message that
      carries the call (a provider that reuses an id makes a new call) ⇒ error ToolMessage, the tool does not
      run (fail closed: put :func:`guard_node` and :func:`approval_node` before it). The decisions are read
      from the graph's state, also for a call that a ``Send`` carries with a state of its own;
    * a call that already has its ToolMessage (the graph routed here twice for one message) does not run
      again and keeps its one answer;
    * block / reject ⇒ error ToolMessage; respond ⇒ the reviewer's message; still
      ``require_approval`` (no approval node ran) ⇒ error ToolMessage;
    * allow / redact / edit ⇒ runs once with the decided arguments (execution ledger under thread id
      and tool call id), then the result is guarded (redaction, withholding, taint); a result that
      needs a reviewer is withheld (nobody can be asked here), and a ``return_direct`` tool's result
      passes the output guard too, since it is shown as the answer.

    It never calls ``interrupt()``: all calls of a turn run in one task here, and a pause inside it
    would re-run the calls that already ran. Every call gets exactly one ToolMessage. The messages it
    writes (the answer, and what a tool's Command adds) are marked read in ``airs_checked``, so that
    :func:`input_guard_node` never takes a ``HumanMessage`` a tool wrote for the user's input. The state
    must have the ``airs_context``, ``airs_decisions`` and ``airs_checked`` keys (``AIRSGraphState``).

    ``wrap_tool_call`` / ``awrap_tool_call``: a ``ToolNode``'s own wrappers (retries, logging, a changed
    result), run inside the enforcement for the calls that may run, as ``ToolNode`` runs them: under
    ``ainvoke`` a sync-only wrapper runs with the sync executor, and the enforcement around it runs sync too,
    on the event loop, as ``ToolNode`` runs a sync wrapper; under ``invoke`` an async-only wrapper does not
    run. They run only the decided call: one that changes its name or arguments is refused, and the tool
    does not run.
    """

    def __init__(self, tools: Sequence[BaseTool | Callable[..., Any]], shield: Shield, *, name: str = "tools",
                 tags: list[str] | None = None, handle_tool_errors: Any = None,
                 messages_key: str = "messages", wrap_tool_call: ToolCallWrapper | None = None,
                 awrap_tool_call: AsyncToolCallWrapper | None = None) -> None:
        if messages_key != "messages":
            # guard_node and approval_node decide the calls they read in ``messages``: the calls read from
            # anywhere else would never be decided, and every one would be refused
            msg = (f"SecureToolNode reads its calls from {messages_key!r}, but guard_node and approval_node read and "
                   "write 'messages' (MessagesState / AIRSGraphState): every call would be refused undecided")
            raise ValueError(msg)
        kwargs: dict[str, Any] = {"name": name, "tags": tags, "messages_key": messages_key}
        if handle_tool_errors is not None:
            kwargs["handle_tool_errors"] = handle_tool_errors
        inner, ainner = wrap_tool_call, awrap_tool_call
        # plain functions, not bound methods: LangGraph's repr prints every attribute, and a bound method's
        # repr is this node's again (repr(node) recursed until RecursionError)
        def enforce(request: ToolCallRequest,
                    execute: Callable[[ToolCallRequest], ToolMessage | Command[Any]]) -> ToolOutput:
            return self._enforce(request, execute, inner)

        async def aenforce(request: ToolCallRequest,
                           execute: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
                           ) -> ToolOutput:
            return await self._aenforce(request, execute, ainner)

        # a sync-only wrapper gets the sync executor under ``ainvoke`` too, as in ToolNode: so no async twin.
        # ToolOutput: a list too, which the wrapper types leave out but ToolNode applies (``ToolOutcome.as_update``)
        asynchronous = None if inner is not None and ainner is None else aenforce
        super().__init__(tools, wrap_tool_call=enforce, awrap_tool_call=asynchronous,  # type: ignore[arg-type]
                         **kwargs)
        self.shield = shield

    def _extract_state(self, input: Any, config: RunnableConfig) -> Any:
        """The graph's state, also for a ``Send`` that carries a state of its own (``ToolCallWithContext``): that
        one is whatever the sender wrote, decisions included, and a call run on it would be decided by its
        sender. Read as for a ``Send`` of the bare calls (outside a graph: none, and every call is refused)."""
        if isinstance(input, Mapping) and input.get("__type") == "tool_call_with_context":
            return super()._extract_state([input["tool_call"]], config)
        return super()._extract_state(input, config)

    def _flow(self, request: ToolCallRequest) -> Flow[ToolOutcome]:
        config = getattr(request.runtime, "config", None) or current_config()
        thread_id = thread_id_of(config)
        messages = list(state_get(request.state, self._messages_key) or ())
        at = last_turn(messages)
        call_id = request.tool_call.get("id")
        answer = next((m for m in messages[at + 1:] if isinstance(m, ToolMessage) and m.tool_call_id == call_id),
                      None) if at >= 0 else None
        if answer is not None:
            return self._answered(answer, thread_id)
        return tool_call_flow(self.shield, request.tool_call, thread_id=thread_id,
                              context=context_in(request.state, thread_id),
                              records=message_records(state_get(request.state, DECISIONS_KEY), messages, at),
                              decide_missing=False, can_interrupt=False,
                              final_answer=bool(getattr(request.tool, "return_direct", False)),
                              message_id=messages[at].id if at >= 0 else None)

    def _answered(self, answer: ToolMessage, thread_id: str | None) -> Flow[ToolOutcome]:
        """A call that already has its answer, reached again (a graph that routes to this node twice for one
        message, a ``Send`` of a call that ran): it ran once, or was refused, and keeps that one answer (the
        same message, which ``add_messages`` puts back in its place)."""
        self.shield.record("tool_execution", {"tool_name": answer.name, "tool_call_id": answer.tool_call_id,
                                              "thread_id": thread_id, "executed": False,
                                              "outcome": "already answered"})
        yield from ()
        return ToolOutcome(answer.model_copy(), None, None, False)

    def _enforce(self, request: ToolCallRequest,
                 execute: Callable[[ToolCallRequest], ToolMessage | Command[Any]],
                 inner: ToolCallWrapper | None) -> ToolOutput:
        stream = ToolStream()

        def run(call: dict[str, Any]) -> Any:
            with pinned_turn(call, stream) as pin:
                def pinned(req: ToolCallRequest) -> ToolMessage | Command[Any]:
                    # whatever tool the wrapper hands over (one it looked up itself, say) runs only this call
                    return execute(pin.request(req, req.tool_call))

                decided = pin.request(request, call)
                return pin.settled(pinned(decided) if inner is None else inner(decided, pinned))

        return with_checked(reported(self._flow(request), self.shield, run, stream))

    async def _aenforce(self, request: ToolCallRequest,
                        execute: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
                        inner: AsyncToolCallWrapper | None) -> ToolOutput:
        stream = ToolStream()

        async def run(call: dict[str, Any]) -> Any:
            with pinned_turn(call, stream) as pin:
                async def pinned(req: ToolCallRequest) -> ToolMessage | Command[Any]:
                    return await execute(pin.request(req, req.tool_call))

                decided = pin.request(request, call)
                return pin.settled(await (pinned(decided) if inner is None else inner(decided, pinned)))

        return with_checked(await areported(self._flow(request), self.shield, run, stream))
