"""The tool a decided call runs on: it runs that call and no other.

``create_agent`` nests ``wrap_tool_call`` hooks in the order the middleware is listed, the first one
outermost. A middleware listed *after* ``AIRSMiddleware`` runs inside its enforcement, after the decision,
and may still change the call: LangChain's ``HumanInTheLoopMiddleware`` applies a reviewer's edit there
(other arguments, or another tool). Such a call must not run on the decision made for the original one.

So the request ``AIRSMiddleware`` hands on carries :class:`Pin` proxies instead of the tools, as
``request.tool`` and in ``request.runtime.tools`` (where a redirect finds its tool). At execution a proxy
compares the call it is asked to run with the decided one (tool, then every argument the model or a
reviewer can set; the values ``ToolNode`` injects, such as state or the runtime, are not the model's) and
refuses any other: the tool does not run, and the middleware answers with an error ``ToolMessage``
saying how to list the middleware so that AIRS decides the call that runs.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from .._canonical import canonical_args
from .._errors import AIRSError
from ._toolstream import ToolStream, silenced


class CallChangedError(AIRSError, RuntimeError):
    """Code inside the enforcement (a middleware listed after ``AIRSMiddleware``, a ``ToolNode``'s own
    ``wrap_tool_call`` in ``SecureToolNode``) changed a tool call after AIRS decided it; it was not run."""


@dataclass
class Pin:
    """The decided call (tool name, arguments and id) and what, if anything, tried to run in its place."""

    name: str
    args: dict[str, Any]
    call_id: str = ""
    changed: str | None = field(default=None)
    ran: bool = False
    """The decided call itself ran (a retry after a refused change, say): its outcome is the answer."""
    stream: ToolStream | None = None
    """Where the ``tools`` stream handlers go while the tool runs (see ``_toolstream``)."""

    @classmethod
    def of(cls, call: Mapping[str, Any], stream: ToolStream | None = None) -> Pin:
        args = call.get("args")
        return cls(str(call.get("name") or ""), dict(args) if isinstance(args, Mapping) else {},
                   str(call.get("id") or ""), stream=stream)

    def request(self, request: Any, call: Mapping[str, Any]) -> Any:
        """``request`` for ``call``, its tools replaced by proxies that only run this call."""
        tool = request.tool
        overrides: dict[str, Any] = {"tool_call": call, "tool": self._pinned(tool) if tool is not None else None}
        runtime = request.runtime
        tools = getattr(runtime, "tools", None)
        if tools:
            overrides["runtime"] = replace(runtime, tools=[self._pinned(t) for t in tools])
        return request.override(**overrides)

    def _pinned(self, tool: Any) -> _Pinned:
        return tool if isinstance(tool, _Pinned) and tool._pin is self else _Pinned(tool, self)

    def check(self, tool: Any, tool_input: Any) -> None:
        call = tool_input if isinstance(tool_input, Mapping) and tool_input.get("type") == "tool_call" else None
        name = str(call.get("name") if call is not None else getattr(tool, "name", ""))
        args = call.get("args") if call is not None else tool_input
        problem = None
        if name != self.name or getattr(tool, "name", name) != self.name:
            problem = f"the call was redirected from `{self.name}` to `{name}`"
        elif not isinstance(args, Mapping) or not self._same_args(tool, args):
            problem = f"the arguments of the call to `{self.name}` were changed"
        elif call is not None and self.call_id and str(call.get("id") or "") != self.call_id:
            # its answer would carry the other id: the decided call would go unanswered
            problem = f"the id of the call to `{self.name}` was changed"
        if problem is not None:
            self.changed = problem
            raise CallChangedError(changed_text(self.name, problem))

    def _same_args(self, tool: Any, args: Mapping[str, Any]) -> bool:
        if any(k not in args for k in self.args):
            return False
        if canonical_args({k: args[k] for k in self.args}) != canonical_args(self.args):
            return False
        extra = set(args) - set(self.args)
        if not extra:
            return True
        visible = _model_visible(tool)
        return visible is not None and not extra & visible

    def settled(self, out: Any) -> Any:
        """``out``, unless the tool refused a changed call and the decided one never ran (``ToolNode`` may have
        turned that refusal into an error message, with ``handle_tool_errors``): then the refusal, raised."""
        if self.changed is not None and not self.ran:
            raise CallChangedError(changed_text(self.name, self.changed))
        return out


def changed_text(name: str, problem: str) -> str:
    return (f"AIRS blocked the call to `{name}`: {problem} after AIRS decided it, by a middleware listed after "
            "AIRSMiddleware (such as HumanInTheLoopMiddleware applying a reviewer's edit) or a ToolNode's own "
            "wrap_tool_call. The tool was not executed. List AIRSMiddleware after that middleware (a graph: make "
            "the change before the guard node), so that AIRS decides the call that runs.")


def _model_visible(tool: Any) -> set[str] | None:
    """The arguments the model (or a reviewer) sets; the others are injected by ``ToolNode``. None when the
    tool does not say (then any argument beyond the decided ones is a change: fail closed)."""
    schema = getattr(tool, "tool_call_schema", None)
    fields = getattr(schema, "model_fields", None)
    if isinstance(fields, Mapping):
        return _without_injected(tool, set(fields))
    if isinstance(schema, Mapping) and isinstance(schema.get("properties"), Mapping):
        return _without_injected(tool, set(schema["properties"]))
    return None


def _without_injected(tool: Any, names: set[str]) -> set[str]:
    """``names`` less the arguments the tool takes from ``ToolNode`` rather than the model. A schema may still name
    one: LangChain's ``ShellToolMiddleware`` declares its ``runtime`` in the shell tool's ``args_schema`` (hidden from
    the model's JSON schema), and ``ToolNode`` injects it from the function's ``ToolRuntime`` parameter."""
    keep = getattr(tool, "_filter_injected_args", None)
    if not callable(keep):
        return names
    try:
        return set(keep(dict.fromkeys(names)))
    except Exception:  # the tool cannot say: every named argument stays the model's (fail closed)
        return names


_RUNNING: contextvars.ContextVar[Pin | None] = contextvars.ContextVar("airs_pinned_running", default=None)
"""The pinned call now running: a tool it runs itself (through ``runtime.tools``, which a tool can be given)
is its own business, as it would be without AIRS, not a call made in its place."""


class _Pinned:
    """A stand-in for a tool: the tool itself for everything but running a call other than the pinned one."""

    __slots__ = ("_pin", "_tool")

    def __init__(self, tool: Any, pin: Pin) -> None:
        self._tool = tool
        self._pin = pin

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tool, name)

    @contextmanager
    def _turn(self, tool_input: Any) -> Iterator[None]:
        """Run the pinned call after checking it is the one; a call made from inside it runs unchecked."""
        if _RUNNING.get() is self._pin:
            yield
            return
        self._pin.check(self._tool, tool_input)
        self._pin.ran = True
        token = _RUNNING.set(self._pin)
        try:
            yield
        finally:
            _RUNNING.reset(token)

    def _config(self, config: Any) -> Any:
        """The tool runs without the ``tools`` stream handlers: they would stream its raw result."""
        stream = self._pin.stream
        return stream.config(config) if stream is not None else config

    def invoke(self, tool_input: Any, config: Any = None, **kwargs: Any) -> Any:
        with self._turn(tool_input), silenced():
            return self._tool.invoke(tool_input, self._config(config), **kwargs)

    async def ainvoke(self, tool_input: Any, config: Any = None, **kwargs: Any) -> Any:
        with self._turn(tool_input), silenced():
            return await self._tool.ainvoke(tool_input, self._config(config), **kwargs)
