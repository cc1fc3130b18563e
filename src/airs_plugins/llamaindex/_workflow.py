"""``AIRSWorkflow``: input guard → the agent (a nested run) → output guard + judge → approval.

The LlamaIndex analogue of inserting guard nodes into a graph: an agent's internal steps cannot be
interleaved, so the agent runs inside a step and the guards are steps around it. Give the agent
guarded tools (:func:`guard_tools`) as well to check each tool call; their approval requests are
forwarded to this workflow's stream and answered on this workflow's handler.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.agent.workflow import (
    AgentInput,
    AgentOutput,
    AgentSetup,
    AgentStream,
    AgentStreamStructuredOutput,
    AgentWorkflow,
    ToolCall,
    ToolCallResult,
)
from llama_index.core.llms import ChatMessage
from llama_index.core.workflow import (
    Context,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
    Workflow,
    step,
)
from pydantic import BaseModel, Field

from .._context import answer_guarded, instructions_known
from .._decision import Decision, RunContext
from .._joined import joined, split_joined
from .._shield import Shield
from ._events import AgentAnswered, ApprovalRefused, ApprovalRequired, ApprovalResponse, InputChecked, OutputChecked
from ._persist import open_agent_context, seal_agent_context
from ._state import CONTEXT_KEY, PENDING_KEY, StoreState, forwarding, shown_args
from ._steps import (
    AGENT_CTX_KEY,
    AGENT_PENDING_KEY,
    AGENT_WAITING_KEY,
    guard_history,
    guard_input,
    guard_output,
    refusal_text,
    released_text,
    request_approval,
    resolve_answer,
)
from ._translate import call_base, message_text, raw_input_of

STRUCTURED_KEY = "airs_structured:"
"""``ctx.store`` key prefix (plus the request id): a structured response waiting with its answer for review."""
RUN_ARGS_KEY = "airs_run_args"
"""``ctx.store`` key: what this run passes to the agent besides the message (checked history, limits)."""
_FORWARDED = ("max_iterations", "early_stopping_method")
_MODEL_EVENTS = (AgentStream, AgentOutput, AgentStreamStructuredOutput, AgentInput, AgentSetup)
"""Events that carry the model's words (an agent's input holds its system prompt and every earlier turn)."""
WITHHELD = "[withheld by AIRS]"
"""What a tool event shows for each argument of a call no guard let run."""
_GENERIC = "<input>"


@dataclass
class _ToolEvents:
    """The agent's tool events as the caller may see them. A call's arguments are the model's words: its
    ``ToolCall`` waits for the call's result and both show the arguments a guard let the call run with (an
    edit's, a redaction's), or none for a call no guard let run (refused, an unknown or unguarded tool). A
    ``return_direct`` result is the agent's answer, which reaches the caller through the output guard."""

    store: Any
    handoffs: bool
    """The agent is an ``AgentWorkflow``, whose ``handoff`` tool's result goes to the next agent, not the user."""
    held: dict[str, ToolCall] = field(default_factory=dict)

    def shown(self, ev: Any) -> list[Any]:
        if isinstance(ev, ToolCall):
            # one per call: the step that runs it writes it again on each replay (an answer, a restore)
            self.held.setdefault(call_base(ev.tool_name, ev.tool_kwargs, ev.tool_id), ev)
            return []
        if not isinstance(ev, ToolCallResult):
            return [ev]
        base = call_base(ev.tool_name, ev.tool_kwargs, ev.tool_id)
        started = self.held.pop(base, None)
        args = shown_args(self.store, base)
        if args is None:
            args = dict.fromkeys(ev.tool_kwargs, WITHHELD)
        ev = ev.model_copy(update={"tool_kwargs": args, "tool_output": ev.tool_output.model_copy(
            update={"raw_input": raw_input_of(args)})})
        out = [] if started is None else [started.model_copy(update={"tool_kwargs": args})]
        answer = ev.return_direct and not ev.tool_output.is_error and not (self.handoffs and ev.tool_name == "handoff")
        return out if answer else [*out, ev]


@dataclass
class _Live:
    """One run's answers in flight to its agent (in process only; a run is one ``ctx.store``)."""

    handlers: dict[str, Any] = field(default_factory=dict)
    """The agent's live handler by the request ids it waits on (and ``<input>`` for a plain input request)."""
    resumed: bool = False
    """The agent runs in this process (started, or resumed from the saved context)."""
    early: list[ApprovalResponse] = field(default_factory=list)
    """Answers to the agent's requests that came before a restored run had resumed it."""


class GuardResult(BaseModel):
    """What an :class:`AIRSWorkflow` run returns. ``str(result)`` is the text to show the user."""

    text: str
    allowed: bool
    stage: str
    """Where the run ended: ``input``, ``output`` or ``approval``."""
    decision: dict[str, Any] = Field(default_factory=dict)
    """The deciding ``Decision`` JSON."""
    structured_response: dict[str, Any] | None = None
    """The agent's structured response (``output_cls``), checked with the answer: redacted with it,
    withheld with it."""

    def __str__(self) -> str:
        return self.text


class AIRSWorkflow(Workflow):
    """Wrap any LlamaIndex agent (or agent workflow) with AIRS guard steps.

    ``AIRSWorkflow(agent, shield, judge=None, output_schema=None)``; run it like the agent:
    ``await AIRSWorkflow(agent, shield).run(user_msg="...")`` returns a :class:`GuardResult`.
    ``chat_history`` is checked (the user's turns as user input, every other turn as untrusted content:
    the caller wrote them all) and passed on, as are ``max_iterations`` and ``early_stopping_method``;
    anything else is refused with a ``TypeError`` rather than dropped (the agent's memory persists across
    runs that share a ``ctx``). An agent's structured response (``output_cls``) is checked with the answer
    in one output decision and returned as ``GuardResult.structured_response``; the output guard sees the
    text and the JSON together, and ``output_schema`` (or the policy's) is checked against the structured
    response itself.
    Approvals arrive on the stream as :class:`ApprovalRequired`; answer with
    ``handler.ctx.send_event(ApprovalResponse.approve(ev, reviewer=...))``; an answer whose request this run
    does not wait on (answered already, another run's) is not used, and :class:`ApprovalRefused` says so on
    the stream. While a guarded tool inside the agent waits, the agent's context is kept in this run's
    store, so a run saved then lists that request (``pending_approvals``) and, restored, resumes the agent
    at that wait. ``judge=`` only attaches the judge to the shield, which decides when to consult it.

    The agent's own stream events (tool calls and results, input requests) are forwarded to this
    workflow's stream; answers sent to this workflow's handler are relayed to the agent. The model's
    own events (``AgentStream`` tokens, ``AgentOutput``, ``AgentStreamStructuredOutput``, and
    ``AgentInput`` / ``AgentSetup``, which hold the system prompt and every earlier turn) are not: they
    carry the answer before the output guard has seen it, so a blocked answer would reach the caller
    anyway. For the same reason a ``return_direct`` tool's result (the answer) is not forwarded, and a
    ``ToolCall`` comes with its ``ToolCallResult``, both showing the arguments a guarded tool ran with (a
    reviewer's edit) or, for a call no guarded tool ran (refused, unknown, unguarded), none.
    ``stream_before_guard=True`` forwards all of them as the agent wrote them (live tokens, at that price).

    The steps (``input_guard``, ``run_agent``, ``output_guard``, ``release``, ``on_approval``,
    ``relay_input``) are ordinary methods: subclass to replace one, or call ``guard_input``,
    ``guard_output``, ``request_approval`` and ``resolve_answer`` inside your own steps.
    """

    def __init__(self, agent: Any, shield: Shield, *, judge: Any = None,
                 output_schema: Mapping[str, Any] | None = None, stream_before_guard: bool = False,
                 **kwargs: Any) -> None:
        kwargs.setdefault("timeout", None)
        super().__init__(**kwargs)
        self.agent = agent
        self.shield = shield
        self.stream_before_guard = stream_before_guard
        self.output_schema = dict(output_schema) if output_schema else None
        shield.attach_judge(judge)
        # in-process only, per run (concurrent runs of this workflow must not take each other's answers)
        self._runs: weakref.WeakKeyDictionary[Any, _Live] = weakref.WeakKeyDictionary()

    def _live(self, ctx: Context) -> _Live:
        live = self._runs.get(ctx.store)
        if live is None:
            live = self._runs[ctx.store] = _Live()
        return live

    @step
    async def input_guard(self, ctx: Context, ev: StartEvent) -> InputChecked | ApprovalRequired | StopEvent:
        unknown = sorted(set(ev.keys()) - {"user_msg", "chat_history", *_FORWARDED})
        if unknown:
            msg = (f"AIRSWorkflow.run() passes user_msg, chat_history, {', '.join(_FORWARDED)} to the agent, not "
                   f"{', '.join(unknown)}; the agent's memory persists across runs with the same ctx")
            raise TypeError(msg)
        history, refused = await guard_history(ctx, self.shield, ev.get("chat_history"))
        if refused is not None:
            return StopEvent(result=_result(refused, refusal_text(refused), stage="input"))
        run_args: dict[str, Any] = {k: ev.get(k) for k in _FORWARDED if ev.get(k) is not None}
        if history:
            run_args["chat_history"] = [m.model_dump(mode="json") for m in history]
        await ctx.store.set(RUN_ARGS_KEY, run_args)
        text = message_text(ev.get("user_msg", ""))
        d = await guard_input(ctx, self.shield, text)
        if d.needs_approval:
            return await request_approval(ctx, self.shield, d, stage="input", text=text)
        released = released_text(d, text)
        if released is None:
            return StopEvent(result=_result(d, refusal_text(d), stage="input"))
        return InputChecked(user_msg=released, context=d.context.model_dump(mode="json"))

    @step
    async def run_agent(self, ctx: Context, ev: InputChecked) -> AgentAnswered:
        live = self._live(ctx)
        waiting = await ctx.store.get(AGENT_WAITING_KEY, default=None)
        # the agent's steps start from this context: its guarded tools see the flag and the system prompts
        with answer_guarded(), instructions_known(_system_prompts(self.agent)):
            if waiting:  # a restored run: the agent waited for a reviewer; resume it there
                handler = self.agent.run(ctx=open_agent_context(self.agent, waiting))
            else:
                agent_ctx = await self._agent_context(ctx)
                run_args = dict(await ctx.store.get(RUN_ARGS_KEY, default=None) or {})
                if run_args.get("chat_history"):
                    run_args["chat_history"] = [ChatMessage.model_validate(m) for m in run_args["chat_history"]]
                handler = self.agent.run(user_msg=ev.user_msg, ctx=agent_ctx, **run_args)
        self._forwarding(handler)  # before the next await, when the agent's first step runs
        for request in (await ctx.store.get(AGENT_PENDING_KEY, default=None) or {}).values() if waiting else ():
            live.handlers[str(request["id"])] = handler
        live.resumed = True
        for early in live.early:
            handler.ctx.send_event(early)
        live.early.clear()
        tools = _ToolEvents(handler.ctx.store, isinstance(self.agent, AgentWorkflow))
        async for nested in handler.stream_events():
            if isinstance(nested, StopEvent):  # the agent's own end is not this workflow's end
                continue
            if isinstance(nested, _MODEL_EVENTS) and not self.stream_before_guard:
                continue  # the model's words reach the caller only through the output guard
            if isinstance(nested, ApprovalRequired):
                live.handlers[nested.request_id] = handler
                await self._keep_waiting(ctx, handler)
            elif isinstance(nested, InputRequiredEvent):
                live.handlers[_GENERIC] = handler
            elif await ctx.store.get(AGENT_PENDING_KEY, default=None):
                await self._keep_waiting(ctx, handler)  # an answer moved the agent on: keep the newer state
            for shown in ([nested] if self.stream_before_guard else tools.shown(nested)):
                ctx.write_event_to_stream(shown)  # tool calls and results stay visible to the caller
        output = await handler
        # the agent's guarded tools updated taint in its own store; carry it into this run
        inner = await handler.ctx.store.get(CONTEXT_KEY, default=None)
        if inner is not None:
            await StoreState(ctx).save_context(RunContext.coerce(inner))
        await ctx.store.set(AGENT_CTX_KEY, seal_agent_context(handler.ctx))
        await ctx.store.set(AGENT_WAITING_KEY, None)
        await ctx.store.set(AGENT_PENDING_KEY, None)
        for rid in [k for k, v in live.handlers.items() if v is handler]:
            live.handlers.pop(rid, None)
        live.resumed = False
        structured = getattr(output, "structured_response", None)
        return AgentAnswered(answer=message_text(output), context=inner or {},
                             structured=dict(structured) if isinstance(structured, Mapping) else None)

    def _forwarding(self, handler: Any) -> None:
        """Right after the agent is started (its run's store is made then; its first step runs at the next await):
        its guarded calls keep the arguments they run with for :class:`_ToolEvents`, unless the events go on as
        the agent wrote them."""
        if not self.stream_before_guard:
            forwarding(handler.ctx.store)

    async def _keep_waiting(self, ctx: Context, handler: Any) -> None:
        """Keep the agent's context in this run's store while its tools wait for reviewers, with the requests
        (an empty table once none waits), so a saved run lists them and resumes the agent at its wait."""
        pending = await handler.ctx.store.get(PENDING_KEY, default=None) or {}
        await ctx.store.set(AGENT_WAITING_KEY, seal_agent_context(handler.ctx))
        await ctx.store.set(AGENT_PENDING_KEY, dict(pending))

    @step
    async def output_guard(self, ctx: Context, ev: AgentAnswered) -> OutputChecked:
        dumped = None if ev.structured is None else _json(ev.structured)
        payload, sep = joined(ev.answer, [] if dumped is None else [dumped])
        d = await guard_output(ctx, self.shield, payload, output_schema=self.output_schema,
                               structured=None if dumped is None else json.loads(dumped),
                               instructions=_system_prompts(self.agent))
        return OutputChecked(answer=ev.answer, decision=d.model_dump(mode="json"), payload=payload, separator=sep,
                             structured=ev.structured)

    @step
    async def release(self, ctx: Context, ev: OutputChecked) -> StopEvent | ApprovalRequired:
        d = Decision.model_validate(ev.decision)
        payload = ev.payload or ev.answer
        if d.needs_approval:
            asked = await request_approval(ctx, self.shield, d, stage="output", text=payload)
            if ev.structured is not None:  # what the reviewer's answer releases along with the text
                await ctx.store.set(STRUCTURED_KEY + asked.request_id,
                                    {"structured": ev.structured, "separator": ev.separator, "payload": payload})
            return asked
        return StopEvent(result=_released(d, payload, ev.separator, ev.structured, stage="output"))

    @step
    async def on_approval(self, ctx: Context, ev: ApprovalResponse) -> InputChecked | StopEvent | None:
        live = self._live(ctx)
        nested = live.handlers.get(ev.request_id)
        if nested is not None:  # a guarded tool inside the agent is waiting on this answer
            nested.ctx.send_event(ev)
            return None
        waiting = await ctx.store.get(AGENT_PENDING_KEY, default=None) or {}
        if not live.resumed and any(r.get("id") == ev.request_id for r in waiting.values()):
            live.early.append(ev)  # a restored run: run_agent passes it on once the agent is resumed
            return None
        kept = await ctx.store.get(STRUCTURED_KEY + ev.request_id, default=None)
        resolved = await resolve_answer(ctx, self.shield, ev)
        if resolved is None:
            self._refuse(ctx, ev, "this run is not waiting on that request (answered already, another run's, "
                                  "or unknown); the answer was not used")
            return None
        d, stage, text = resolved
        if stage != "input":
            if kept is not None:
                await ctx.store.set(STRUCTURED_KEY + ev.request_id, None)  # answered: nothing waits any more
            kept = kept if isinstance(kept, Mapping) else {}
            # ``text`` is what the approval releases (redacted, see request_approval); measured against the
            # answer as it was, a redaction rebuilds the structured response too
            return StopEvent(result=_released(d, str(kept.get("payload", text)), kept.get("separator"),
                                              kept.get("structured"), stage="approval", text=text))
        released = released_text(d, text)
        if released is None:
            return StopEvent(result=_result(d, refusal_text(d), stage="approval"))
        run_ctx = await StoreState(ctx).context()
        return InputChecked(user_msg=released, context=run_ctx.model_dump(mode="json"))

    @step
    async def relay_input(self, ctx: Context, ev: HumanResponseEvent) -> None:
        """Pass a plain ``HumanResponseEvent`` on to the agent when one of its own tools asked for input."""
        live = self._live(ctx).handlers.pop(_GENERIC, None)
        if live is not None:
            live.ctx.send_event(ev)

    def _refuse(self, ctx: Context, ev: ApprovalResponse, reason: str) -> None:
        self.shield.record("approval_refused", {"request_id": ev.request_id, "answer": ev.type,
                                                "reviewer": ev.reviewer, "reason": reason})
        ctx.write_event_to_stream(ApprovalRefused(request_id=ev.request_id, reason=reason))

    async def _agent_context(self, ctx: Context) -> Any:
        """The agent's own context: restored from this run's store (memory across turns) and seeded
        with this run's RunContext, so taint from earlier turns reaches the agent's guarded tools."""
        saved = await ctx.store.get(AGENT_CTX_KEY, default=None)
        agent_ctx = open_agent_context(self.agent, saved) if saved else Context(self.agent)
        run_ctx = await StoreState(ctx).context()
        await agent_ctx.store.set(CONTEXT_KEY, run_ctx.model_dump(mode="json"))
        return agent_ctx


def _result(d: Decision, text: str, *, stage: str, allowed: bool = False,
            structured: dict[str, Any] | None = None) -> GuardResult:
    return GuardResult(text=text, allowed=allowed, stage=stage, decision=d.model_dump(mode="json"),
                       structured_response=structured)


def _system_prompts(agent: Any) -> str | None:
    """The agent's system prompt; an ``AgentWorkflow``'s, all its agents' (any of them may be answering)."""
    agents = getattr(agent, "agents", None)
    members = list(agents.values()) if isinstance(agents, Mapping) else [agent]
    prompts = [p for p in (getattr(a, "system_prompt", None) for a in members) if isinstance(p, str) and p.strip()]
    return "\n".join(prompts) or None


def _json(structured: Mapping[str, Any]) -> str:
    return json.dumps(structured, ensure_ascii=False, sort_keys=True, default=str)


def _released(d: Decision, payload: str, sep: str | None, structured: dict[str, Any] | None, *,
              stage: str, text: str | None = None) -> GuardResult:
    """The answer (and structured response) an output decision lets through: as they were, redacted (the
    structured response rebuilt from its redacted JSON), or the refusal with neither when the decision
    blocks or a redaction broke the JSON apart. ``text``: the payload the decision was made on, when it is
    not ``payload`` itself (a reviewer's, on the redacted answer held for them)."""
    released = released_text(d, payload if text is None else text)
    if released is not None and sep is not None:
        parts = split_joined(released, sep, 2)
        if parts is None:  # a redaction across the separator: nothing can be kept safely
            released = None
        elif released != payload:
            try:
                rebuilt = json.loads(parts[1])
            except ValueError:
                rebuilt = None
            released, structured = (parts[0], rebuilt) if isinstance(rebuilt, dict) else (None, None)
        else:
            released = parts[0]
    if released is None:
        return _result(d, refusal_text(d), stage=stage)
    return _result(d, released, stage=stage, allowed=True, structured=structured)
