"""``guard_tools``: enforcement at the ``BaseTool`` boundary, for legacy agents and ToolNode-only users."""

from __future__ import annotations

import functools
import inspect
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from langchain_core.callbacks import BaseCallbackManager
from langchain_core.tools import BaseTool, Tool
from langchain_core.tools import tool as make_tool
from langchain_core.utils.pydantic import get_fields
from pydantic import ConfigDict, PrivateAttr

from .._context import is_suppressed
from .._decision import RunContext
from .._shield import Shield
from ._enforce import ToolOutcome, already_enforced, enforcing, tool_call_flow
from ._flow import Flow, adrive, drive
from ._toolstream import ToolStream, silenced
from ._translate import agent_of, context_in, current_config, merge_context, thread_id_of

APPROVAL_SLOT = "airs-approval-slot:"
"""Ledger key prefix: which call of a LangGraph task (checkpoint namespace) may ask a human."""
SINGLE_INPUT_SCHEMA: dict[str, Any] = {"type": "object", "required": ["__arg1"],
                                       "properties": {"__arg1": {"title": "__arg1", "type": "string"}}}
"""What providers are shown of a legacy single-input ``Tool`` without an ``args_schema`` (LangChain's own)."""
SLOT_TAKEN = "slot-taken"
"""Ledger status of the approval slot once a call has taken it (a marker; nothing waits on it)."""


def run_of(callbacks: Any) -> Hashable | None:
    """What identifies the agent run a tool call belongs to, when it has no thread id; None when nothing does.

    In a LangGraph graph: the run's ``RunControl``, one per ``invoke``/``stream`` and shared with its
    subgraphs (a task's own ids change every step). Elsewhere: the parent run the caller's callback
    manager names (a legacy ``AgentExecutor`` passes its own run), the same for every call of that run."""
    try:
        from langgraph.runtime import get_runtime

        control = getattr(get_runtime(), "control", None)
    except (RuntimeError, KeyError):  # outside a runnable, or a runnable outside a graph
        control = None
    if control is not None:
        return control  # type: ignore[no-any-return]
    if isinstance(callbacks, BaseCallbackManager) and callbacks.parent_run_id is not None:
        return callbacks.parent_run_id
    return None


class _Contexts:
    """The run's ``RunContext`` for tools that cannot see graph state (process memory only): per thread id,
    and for a run without one per run (see :func:`run_of`), so that runs never share taint. A call that
    belongs to no run that can be told starts from a fresh context.

    Runs are many and end unseen, so only the newest ``MAX_RUNS`` are kept. A run's key is held, not only
    its ``id()``: a finished run's object could otherwise be freed and its id given to a later run.
    Threads are kept longer: the ``MAX_THREADS`` most recently used, and any used in the last
    ``MIN_IDLE_S`` whatever their count. A thread beyond them starts over from a fresh context, as every
    thread does after a restart (keep the context in graph state with ``AIRSMiddleware`` or the LangGraph
    nodes when that matters)."""

    MAX_RUNS = 1024
    MAX_THREADS = 10_000
    MIN_IDLE_S = 3_600.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_thread: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._used: dict[str, float] = {}
        self._by_run: OrderedDict[Hashable, dict[str, Any]] = OrderedDict()

    def get(self, thread_id: str | None, run: Hashable | None) -> RunContext:
        with self._lock:
            if thread_id is not None:
                raw = self._by_thread.get(thread_id)
                if raw is not None:
                    self._by_thread.move_to_end(thread_id)
                    self._used[thread_id] = time.monotonic()
            else:
                raw = self._by_run.get(run) if run is not None else None
        return context_in({"airs_context": raw}, thread_id, agent_of(current_config()))

    def put(self, thread_id: str | None, run: Hashable | None, ctx: Mapping[str, Any] | None) -> None:
        if ctx is None:
            return
        with self._lock:
            if thread_id is not None:
                _keep_newest(self._by_thread, thread_id, ctx)
                now = self._used[thread_id] = time.monotonic()
                while len(self._by_thread) > self.MAX_THREADS:
                    oldest = next(iter(self._by_thread))
                    if now - self._used[oldest] < self.MIN_IDLE_S:
                        break  # used within the hour: its taint still matters more than the memory
                    del self._by_thread[oldest], self._used[oldest]
            elif run is not None:
                _keep_newest(self._by_run, run, ctx)
                while len(self._by_run) > self.MAX_RUNS:
                    self._by_run.popitem(last=False)

    def forget(self, run: Hashable) -> None:
        """Drop a run's context once it is known to have ended (a thread's is kept for its next turn)."""
        with self._lock:
            self._by_run.pop(run, None)


_SHARED: weakref.WeakKeyDictionary[Shield, _Contexts] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def contexts_of(shield: Shield) -> _Contexts:
    """The contexts every tool guarded with ``shield`` keeps: taint read through one guarded tool must reach the
    calls of every other in the same run, however the tools were wrapped (in one ``guard_tools`` call or several,
    or one by one)."""
    with _SHARED_LOCK:
        found = _SHARED.get(shield)
        if found is None:
            found = _SHARED[shield] = _Contexts()
        return found


def _keep_newest(held: OrderedDict[Any, dict[str, Any]], key: Any, ctx: Mapping[str, Any]) -> None:
    held[key] = merge_context(held.get(key), ctx) or dict(ctx)
    held.move_to_end(key)


class GuardedTool(BaseTool):
    """A tool with the same name, description and schema whose every run goes through the Shield.

    A blocked or rejected call returns an error ToolMessage (or its text, outside a tool call) and
    never runs the inner tool; ``require_approval`` calls LangGraph's ``interrupt()`` when running
    inside a graph (resume with the ApprovalDecision JSON) and is denied outside one. Each run in a
    graph is claimed in ``shield.ledger`` so a replay after a resume returns the recorded result;
    outside a graph nothing is replayed: a later call that reuses an id is a new call.

    A tool cannot see the graph state, so this wrapper keeps the run's ``RunContext`` (taint, caps)
    per thread id in process memory; a run without a thread id (an agent without a checkpointer) has
    one of its own, which ends with it. Outside a graph, pass the conversation's thread id
    (``config={"configurable": {"thread_id": ...}}``) for its calls to share one: a call that belongs
    to no run that can be told (a bare ``invoke``) starts from a fresh context.

    LangGraph re-runs a paused tool from its start on resume; so that the call is decided once (one
    decision and one approval request in the audit, and the answer resolves the request the reviewer
    saw), a decision that asks a human is kept in ``shield.ledger`` with the run's context before the
    ``interrupt()``, and the re-run takes both from there; the reviewer's answer, once read, is kept
    there too, so a later re-run of the task neither reads it again nor judges its deadline anew. With a
    file ledger (``Shield(ledger=path)``) that holds after a restart too: the run resumes with the taint
    it paused with. A process that stops anywhere else loses the in-memory context; use
    ``AIRSMiddleware`` or the LangGraph nodes, which keep it in graph state, when that matters. When a
    middleware or ``SecureToolNode`` already enforces the call, the wrapper passes it through.

    A plain ``ToolNode`` runs all calls of a turn in one task, in threads, and LangGraph matches
    resume values to ``interrupt()`` calls by their order within a task, which threads make
    arbitrary: with two gated calls an answer could reach the wrong call. So one step asks about
    one call only: the first gated call to arrive claims the step's approval slot in
    ``shield.ledger`` (durable, so the same call owns it on the re-run after the resume, even after
    a restart) and the other gated calls of that step are refused (fail closed). ``create_agent``
    runs each call as its own task, so there every gated call is asked. For custom graphs prefer
    ``airs_plugins.langgraph.secure_graph`` (guard → approval node → ``SecureToolNode``).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseTool
    shield: Any
    _contexts: _Contexts = PrivateAttr()
    _instructions: str | None = PrivateAttr(default=None)
    _single_input: bool = PrivateAttr(default=False)
    """The agent's system prompt, which a tool cannot see: a call that recites it is leakage. Private, so it
    stays out of the tool's repr and of what tracing serialises."""

    def __init__(self, inner: BaseTool, shield: Shield, *, instructions: str | None = None) -> None:
        # a tool without an explicit schema has it inferred from its ``_run`` signature; ours takes
        # ``*args, **kwargs``, so the inner tool's inferred schema is passed on explicitly. ``extras``: what
        # providers and middleware read off the tool (Anthropic's ``cache_control``, ``defer_loading`` for tool
        # search)
        schema = inner.args_schema if inner.args_schema is not None else inner.get_input_schema()
        if isinstance(inner, Tool) and not inner.args_schema:
            # a legacy single-input ``Tool``: providers are shown one string argument, ``__arg1``, because it is a
            # ``Tool`` (``convert_to_openai_tool``); the wrapper is not one, so it says so in its schema
            schema = SINGLE_INPUT_SCHEMA
        super().__init__(inner=inner, shield=shield, name=inner.name, description=inner.description,
                         args_schema=schema, return_direct=inner.return_direct,
                         response_format=inner.response_format, handle_tool_error=inner.handle_tool_error,
                         handle_validation_error=inner.handle_validation_error, tags=inner.tags,
                         metadata=inner.metadata, extras=inner.extras)
        self._contexts = contexts_of(shield)
        self._instructions = instructions
        self._single_input = schema is SINGLE_INPUT_SCHEMA

    @property
    def func(self) -> Callable[..., Any] | None:
        """The inner tool's function, described but not callable (see :func:`_described`)."""
        return _described(getattr(self.inner, "func", None))

    @property
    def coroutine(self) -> Callable[..., Any] | None:
        """The inner tool's coroutine function, described but not callable (see :func:`_described`)."""
        return _described(getattr(self.inner, "coroutine", None))

    @property
    def args(self) -> dict[str, Any]:
        """The inner tool's: what legacy agents render in their prompt and read ``is_single_input`` from."""
        return self.inner.args

    # BaseTool requires these; ``run``/``arun`` below never reach them.
    def _run(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        return self.inner._run(*args, **kwargs)

    async def _arun(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        return await self.inner._arun(*args, **kwargs)

    def _visible(self, tool_input: Any) -> dict[str, Any]:
        """The arguments the model chose: all but the injected ones (state, store, runtime, call id), which are
        what ``BaseTool.run`` itself leaves out of a call's recorded inputs. Not only the fields the schema
        names: the tool also takes a field by its alias, or an extra, and an argument kept out of the decision
        would reach the tool unchecked."""
        if not isinstance(tool_input, Mapping):
            return {self._text_field(): tool_input}
        return self.inner._filter_injected_args(dict(tool_input))

    def _text_field(self) -> str:
        """The argument a bare string input fills (a legacy agent's ``tool.run(text)``): the schema's first
        field, as ``BaseTool`` reads it (a legacy single-input ``Tool``'s: ``__arg1``, the name a model's call uses).
        Decided under another name, the argument rules written for that field (``shell_args``, ``sql_args``, ...)
        would never see it."""
        if self._single_input:  # a flag, not the schema's identity: pydantic may copy a dict it validates
            return "__arg1"
        try:
            fields = get_fields(self.args_schema)  # type: ignore[arg-type]
        except TypeError:  # not a model: a JSON schema takes no bare string
            return "input"
        return next(iter(fields), "input")

    def _merged(self, tool_input: Any, args: Mapping[str, Any]) -> Any:
        if not isinstance(tool_input, Mapping):
            return args.get(self._text_field(), tool_input)
        visible = self._visible(tool_input)
        return {**{k: v for k, v in tool_input.items() if k not in visible}, **args}

    def _prepare(self, tool_input: Any, config: Any, callbacks: Any,
                 tool_call_id: str | None) -> tuple[dict[str, Any], str | None, Hashable | None]:
        thread_id = thread_id_of(config) or thread_id_of(current_config())
        call = {"name": self.name, "args": self._visible(tool_input),
                "id": tool_call_id or f"airs-{uuid.uuid4().hex}", "type": "tool_call"}
        run = None if thread_id is not None else run_of(callbacks or (config or {}).get("callbacks"))
        return call, thread_id, run

    def _flow(self, call: dict[str, Any], thread_id: str | None, run: Hashable | None) -> Flow[ToolOutcome]:
        return tool_call_flow(self.shield, call, thread_id=thread_id, context=self._contexts.get(thread_id, run),
                              records=None, may_ask=lambda cid: self._owns_approval_slot(thread_id, cid),
                              final_answer=self.inner.return_direct, instructions=self._instructions)

    def _owns_approval_slot(self, thread_id: str | None, call_id: str) -> bool:
        """Whether this call may ask a human in the current LangGraph task (see the class docstring)."""
        config = current_config() or {}
        ns = (config.get("configurable") or {}).get("checkpoint_ns")
        if not ns:
            return True
        # without a thread id nothing resumes, but the step's calls still take turns: a key of their own task
        owner, slot = thread_id if thread_id is not None else f"airs-task:{ns}", f"{APPROVAL_SLOT}{ns}"
        holder = self.shield.ledger.claim(owner, slot, call_id)
        if holder is None:
            # a marker, not a call: settled at once, so it never holds its thread as a call under way would
            self.shield.ledger.complete(owner, slot, "", status=SLOT_TAKEN)
            return True
        return bool(holder.tool_name == call_id)

    def _finish(self, outcome: ToolOutcome, thread_id: str | None, run: Hashable | None,
                tool_call_id: str | None, stream: ToolStream) -> Any:
        self._contexts.put(thread_id, run, outcome.context)
        output = outcome.tool_output()
        answer = output if output is not None else outcome.message if tool_call_id is not None \
            else outcome.message.content
        outcome.report(stream, answer)
        return answer

    @contextmanager
    def _enforcing(self, call: Mapping[str, Any], run_args: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The inner tool's run arguments, the run marked as enforced here: by its call id, and by its run id,
        which is all a callback handler is told of a call that came without a tool call id (a legacy agent's
        ``tool.run(text)``, a plain ``invoke(args)``)."""
        run_id = run_args.get("run_id") or uuid.uuid4()
        with enforcing(str(call["id"]), self.name, call["args"]), enforcing(str(run_id), self.name):
            yield {**run_args, "run_id": run_id}

    @staticmethod
    def _unstreamed(passthrough: dict[str, Any], stream: ToolStream) -> dict[str, Any]:
        """The inner tool's run arguments without the ``tools`` stream handlers: they would stream its raw
        result, before the guard (see ``_toolstream``)."""
        return {**passthrough, "callbacks": stream.callbacks(passthrough["callbacks"]),
                "config": stream.config(passthrough["config"])}

    def run(self, tool_input: Any, verbose: bool | None = None, start_color: str | None = "green",
            color: str | None = "green", callbacks: Any = None, *, config: Any = None,
            tool_call_id: str | None = None, **kwargs: Any) -> Any:
        passthrough = {"verbose": verbose, "start_color": start_color, "color": color, "callbacks": callbacks,
                       "config": config, "tool_call_id": tool_call_id, **kwargs}
        if is_suppressed() or already_enforced(tool_call_id or "", self.name, self._visible(tool_input)):
            return self.inner.run(tool_input, **passthrough)
        call, thread_id, run = self._prepare(tool_input, config, callbacks, tool_call_id)
        stream = ToolStream()
        unstreamed = self._unstreamed(passthrough, stream)

        def go(c: dict[str, Any]) -> Any:
            with self._enforcing(c, unstreamed) as run_args, silenced():
                return self.inner.run(self._merged(tool_input, c["args"]), **run_args)

        with stream.reporting():
            outcome = drive(self._flow(call, thread_id, run), self.shield, go)
        return self._finish(outcome, thread_id, run, tool_call_id, stream)

    async def arun(self, tool_input: Any, verbose: bool | None = None, start_color: str | None = "green",
                   color: str | None = "green", callbacks: Any = None, *, config: Any = None,
                   tool_call_id: str | None = None, **kwargs: Any) -> Any:
        passthrough = {"verbose": verbose, "start_color": start_color, "color": color, "callbacks": callbacks,
                       "config": config, "tool_call_id": tool_call_id, **kwargs}
        if is_suppressed() or already_enforced(tool_call_id or "", self.name, self._visible(tool_input)):
            return await self.inner.arun(tool_input, **passthrough)
        call, thread_id, run = self._prepare(tool_input, config, callbacks, tool_call_id)
        stream = ToolStream()
        unstreamed = self._unstreamed(passthrough, stream)

        async def go(c: dict[str, Any]) -> Any:
            with self._enforcing(c, unstreamed) as run_args, silenced():
                return await self.inner.arun(self._merged(tool_input, c["args"]), **run_args)

        with stream.reporting():
            outcome = await adrive(self._flow(call, thread_id, run), self.shield, go)
        return self._finish(outcome, thread_id, run, tool_call_id, stream)


def guard_tools(tools: Iterable[BaseTool | Callable[..., Any]], shield: Shield, *,
                instructions: str | None = None) -> list[BaseTool]:
    """Wrap each tool so that every call is decided and enforced by ``shield`` (see :class:`GuardedTool`).

    ``tools``: ``BaseTool`` objects, or plain functions, made tools as ``create_agent`` and ``ToolNode`` make
    them (``langchain_core.tools.tool``). The tools guarded with one ``shield`` share one context per thread
    (or per run, without a thread id), whether they were wrapped together or not, so a result read by one tool
    taints the next outward call of another in the same run. Name, description and argument schema are
    preserved. ``instructions``: the agent's system prompt, which the tools cannot see; a call whose arguments
    recite it is leakage.
    """
    return [_guarded_once(t, shield) if isinstance(t, GuardedTool)
            else GuardedTool(_as_tool(t), shield, instructions=instructions) for t in tools]


def _guarded_once(tool: GuardedTool, shield: Shield) -> GuardedTool:
    """A tool guarded already is returned as it is; guarded by another ``Shield``, it is refused: returned as it is,
    the second shield's policy would never apply, and it cannot wrap the first (each call gets one decision)."""
    if tool.shield is not shield:
        msg = (f"tool {tool.name!r} is guarded by another Shield already: guard the plain tool (its .inner) with the "
               "Shield whose policy should decide it")
        raise ValueError(msg)
    return tool


def _as_tool(tool: Any) -> BaseTool:
    if isinstance(tool, BaseTool):
        return tool
    if callable(tool):
        made: BaseTool = make_tool(tool)
        return made
    # a provider's built-in tool (a dict) runs at the provider: there is no call here to guard
    msg = (f"guard_tools takes LangChain tools or functions, not {type(tool).__name__}: a provider's built-in tool "
           "runs at the provider, so pass it to the agent unwrapped (AIRSMiddleware reads its results)")
    raise TypeError(msg)


def _described(fn: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """A stand-in for a guarded tool's own function, with its name, signature and annotations, for what reads a tool's
    function rather than its schema: ``ToolNode`` finds there the arguments it injects (``ToolRuntime``,
    ``InjectedState``, ``InjectedStore``, ``InjectedToolArg``) when a tool's ``args_schema`` leaves them out, and
    strips the values a model wrote for them; ``render_text_description`` shows a legacy agent's model the
    signature. Calling it is refused: the inner function itself would run undecided."""
    if fn is None:
        return None
    refusal = "a guarded tool's function cannot be called directly: call the tool (invoke/run), which is decided"
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def refused_async(*_args: Any, **_kwargs: Any) -> Any:
            raise TypeError(refusal)

        return refused_async

    @functools.wraps(fn)
    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise TypeError(refusal)

    return refused
