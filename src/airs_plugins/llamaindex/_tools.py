"""``guard_tools``: wrapper ``FunctionTool``s that check each call before it runs and each result after.

A wrapper keeps the inner tool's metadata (name, description, ``fn_schema``, ``return_direct``) and
takes a workflow ``Context`` that the agent injects and the LLM never sees, which is how it reaches
``ctx.store`` (the run's ``RunContext``) and ``ctx.wait_for_event`` (approvals). The same wrapper works
for ``FunctionAgent``, ``ReActAgent`` and ``AgentWorkflow``, because all three call tools through
``_call_tool`` and turn a raised exception into an error output the model reads.

Replays: ``wait_for_event`` re-runs the step from the top when the answer arrives (once per matching
event, and once more after a restore). Everything before the wait is therefore keyed by the call's
identity, which the step's work item keeps through every replay: the first pass checks and records the
approval request in ``ctx.store``; later passes find it there and go straight back to the wait, so the
decision and the audit record happen once. The pass that gets the answer first acts on it and claims the
call in the ledger; a pass started by a second delivery of the answer ends without a result, and an
answer given to another copy of the run (restored from the same saved context) is refused: the outcome
recorded for the first answer stands.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from llama_index.core.base.llms.types import ContentBlock, TextBlock
from llama_index.core.tools import BaseTool, FunctionTool, ToolOutput, adapt_to_async_tool
from llama_index.core.workflow import Context, Event
from pydantic import TypeAdapter, ValidationError

from .._context import is_answer_guarded, known_instructions
from .._context_codec import decode_context
from .._decision import Action, ApprovalDecision, ApprovalRequest, Decision, RunContext
from .._error_text import error_parts, read_whole
from .._joined import joined, split_joined
from .._ledger import REVIEW, WAITING, LedgerEntry
from .._shield import Shield, stringify
from .._words import words
from ._enforce import (
    ToolFailedError,
    ToolRefusedError,
    no_reviewer,
    refuse_call,
    result_content,
    run_args,
    unknown_outcome,
    withhold_output,
)
from ._events import ApprovalRequired, ApprovalResponse
from ._state import LocalState, RunState, StoreState
from ._steps import read_memory, refusal_text
from ._translate import call_base, current_tool_id, current_work_item, raw_input_of

CTX_PARAM = "airs_ctx"


class GuardedTool(FunctionTool):
    """A ``FunctionTool`` whose calls go through a :class:`~airs_plugins.Shield` (see :func:`guard_tools`)."""

    inner: BaseTool
    shield: Shield


def guard_tools(
    tools: Iterable[BaseTool | Any],
    shield: Shield,
    *,
    judge: Any = None,
    approval_timeout: float | None = None,
    instructions: str | None = None,
) -> list[GuardedTool]:
    """Wrap LlamaIndex tools (or plain functions) so each call and each result is checked.

    * block ⇒ the tool does not run; the agent gets an error output saying why;
    * require_approval ⇒ the run pauses on :class:`ApprovalRequired` (an ``InputRequiredEvent``
      carrying the ``ApprovalRequest``); answer with :class:`ApprovalResponse`. Approve runs the call,
      edit runs it with the reviewer's args, reject and respond never run it (respond's message is the
      output); no answer within ``approval_timeout`` seconds (default: the tier's review SLA) denies;
    * every executed call is claimed in ``shield.ledger`` under (run id, call id) first, so a replay
      after a resume or restart returns the recorded result instead of running it again;
    * results are checked as untrusted content: taint is kept in ``ctx.store`` for later calls, and a
      blocked or redacted result is withheld or rewritten before the model sees it (a redaction block by
      block: an image beside the masked text stays);
    * a run that starts without an AIRS context (a new ``Context``) but with a memory holding earlier runs'
      tool results (``memory=``, ``chat_history=``) reads them as untrusted content at its first guarded call,
      so what they carried taints this run as it did the run that read them;
    * a result that needs a reviewer pauses the run on :class:`ApprovalRequired` too (channel
      ``tool_result``): approve releases it, reject withholds it (error output), respond puts the
      reviewer's message in its place. The tool has run once; the step re-runs after the answer and
      takes the result from the ledger. Outside a workflow nobody can be asked, and it is withheld;
    * a value the model writes for a parameter the application binds (``partial_params`` the tool's schema
      leaves out, the tool's workflow context) is dropped: the bound value is used, and the call is decided
      without it;
    * a ``return_direct`` tool's result is the agent's answer, so it also passes the output guard: a
      block answers with the refusal, a redaction rewrites it, and one that needs a reviewer waits for one
      as above.

    ``judge=`` only attaches a judge to the shield (adapters never route). ``instructions``: the agent's
    system prompt, which the tools cannot see; a call whose arguments recite it is leakage (under
    :class:`AIRSWorkflow` they are told the agent's prompt without it).
    """
    shield.attach_judge(judge)
    local = LocalState()
    return [_wrap(t if isinstance(t, BaseTool) else FunctionTool.from_defaults(t), shield, local,
                  approval_timeout, instructions=instructions) for t in tools]


def guard_handoffs(workflow: Any, shield: Shield, *, approval_timeout: float | None = None) -> Any:
    """Send an ``AgentWorkflow``'s handoffs through ``shield`` like any other tool call; returns it.

    ``AgentWorkflow`` builds its ``handoff`` tool itself, so ``guard_tools`` never sees it. After this,
    each handoff is decided before it happens (tool policy: ``tools.handoff`` can deny it, require
    approval, or set rules on ``to_agent``), a blocked or rejected handoff leaves the current agent in
    charge, and the handoff's text (the reason the model wrote, which the next agent reads) is checked
    as a tool result: an injection in it taints the run like one in any other tool output, and a handoff
    whose text is withheld (blocked, or a reviewer rejected it) does not happen either.
    """
    make = getattr(workflow, "_get_handoff_tool", None)
    if make is None or not callable(make):
        raise TypeError(f"guard_handoffs needs a LlamaIndex AgentWorkflow, got {type(workflow).__name__}")
    if getattr(workflow, "_airs_handoffs", None) is shield:
        return workflow
    local = LocalState()

    def guarded_handoff_tool(current_agent: Any) -> Any:
        tool = make(current_agent)
        # the handoff tool is return_direct, but what it returns goes to the next agent, not the user
        return None if tool is None else _wrap(tool, shield, local, approval_timeout, answers=False,
                                               withheld=_stay)

    workflow._get_handoff_tool = guarded_handoff_tool
    workflow._airs_handoffs = shield
    return workflow


def guard_code_act(agent: Any, shield: Shield, *, approval_timeout: float | None = None) -> Any:
    """Send the code a ``CodeActAgent`` runs through ``shield`` like any other tool call; returns the agent.

    ``CodeActAgent`` builds its ``execute`` tool itself from ``code_execute_fn``, so ``guard_tools`` never sees
    it, and it is the agent's one way to act. After this, each code block is a call of the tool ``execute``
    (argument ``code``; policy key ``tools.execute``) decided before it runs like any tool call (denied, or held
    for a reviewer, the taint rule included), and what it printed is checked as the tool's result: an injection
    there taints the run, and a blocked or redacted output is withheld or rewritten before the model reads it.

    The functions the code calls run inside ``code_execute_fn``, never as tool calls, so no tool wrapper can
    stand between the code and them: the agent's ``tools`` only describe them. Give the agent the plain tools
    (it refuses tools that take the workflow context, as guarded ones do) and decide what the code may do with
    the policy for ``execute``.
    """
    from llama_index.core.agent.workflow import CodeActAgent
    from llama_index.core.agent.workflow.codeact_agent import EXECUTE_TOOL_NAME

    if not isinstance(agent, CodeActAgent):
        raise TypeError(f"guard_code_act needs a LlamaIndex CodeActAgent, got {type(agent).__name__}")
    tools = agent.tools or []
    described = [t.metadata.get_name() for t in tools
                 if isinstance(t, GuardedTool) and t.metadata.get_name() != EXECUTE_TOOL_NAME]
    if described:
        msg = (f"CodeActAgent only describes {', '.join(described)} to its model; the code it writes calls them "
               "inside code_execute_fn, where no tool wrapper is, and it refuses guarded tools (they take the "
               "workflow context). Give it the plain tools; guard_code_act decides the code that calls them")
        raise TypeError(msg)
    local = LocalState()
    for i, tool in enumerate(tools):
        # the agent built this one itself (a FunctionTool); plain functions it was given are described only
        if not isinstance(tool, BaseTool) or tool.metadata.get_name() != EXECUTE_TOOL_NAME:
            continue
        if isinstance(tool, GuardedTool) and tool.shield is shield:
            continue
        tools[i] = _wrap(tool, shield, local, approval_timeout)
    return agent


async def _stay(ctx: Context) -> None:
    """Undo a handoff whose text was withheld: AgentWorkflow's handoff tool names the next agent in the store
    when it runs, and its workflow hands over whatever the tool's output turned out to be."""
    await ctx.store.set("next_agent", None)


def _wrap(inner: BaseTool, shield: Shield, local: LocalState, approval_timeout: float | None, *,
          answers: bool | None = None, instructions: str | None = None,
          withheld: Callable[[Context], Awaitable[None]] | None = None) -> GuardedTool:
    guard = _Guard(inner, shield, local, approval_timeout,
                   inner.metadata.return_direct if answers is None else answers, instructions)

    names = list(inner.metadata.fn_schema.model_fields) if inner.metadata.fn_schema is not None else []

    async def guarded(*args: Any, airs_ctx: Context | None = None, **kwargs: Any) -> Any:
        if args:  # ``tool.acall(1, 2)`` works unguarded: the guard decides on the arguments by name
            kwargs = _by_name(names, args, kwargs, inner.metadata.get_name())
        try:
            return await guard.run(airs_ctx, kwargs)
        except Exception as exc:
            # the model reads the call as failed: what the tool did to the run's state must not stand either
            if withheld is not None and airs_ctx is not None and not _is_waiting(exc):
                await withheld(airs_ctx)
            raise

    # FunctionTool finds the context parameter by its annotation object; set it explicitly so
    # postponed annotations (strings) cannot hide it, and so the LLM-facing schema stays the inner one.
    # Keyword-only: a positional argument is the tool's, never the context.
    guarded.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL, annotation=Any),
        inspect.Parameter(CTX_PARAM, inspect.Parameter.KEYWORD_ONLY, annotation=Context, default=None),
        inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD, annotation=Any),
    ])
    tool = GuardedTool(async_fn=guarded, metadata=inner.metadata, partial_params={CTX_PARAM: None},
                       callback=_unwrap, async_callback=_aunwrap)
    tool.inner = inner
    tool.shield = shield
    return tool


def _bound_params(inner: BaseTool, schema: Sequence[str]) -> frozenset[str]:
    """The parameters the application gives an inner ``FunctionTool`` itself: its workflow-context parameter, and
    its ``partial_params`` that the schema the model reads leaves out. A value the model writes for one (an
    injection asking for another user's records) is dropped, so the bound value is the one used; a partial
    parameter the schema shows is only a default the model may change."""
    if not isinstance(inner, FunctionTool):
        return frozenset()
    hidden = set(inner.partial_params) - set(schema)
    return frozenset(hidden | ({inner.ctx_param_name} if inner.ctx_param_name else set()))


def _by_name(names: Sequence[str], args: Sequence[Any], kwargs: dict[str, Any], tool: str) -> dict[str, Any]:
    """Positional arguments named by the tool's schema, in its order."""
    if len(args) > len(names):
        msg = f"{tool}() takes {len(names)} arguments ({', '.join(names)}), {len(args)} were given"
        raise TypeError(msg)
    named = dict(zip(names, args, strict=False))
    twice = sorted(set(named) & set(kwargs))
    if twice:
        msg = f"{tool}() got multiple values for {', '.join(twice)}"
        raise TypeError(msg)
    return {**named, **kwargs}


@dataclass
class _Call:
    """One invocation of a guarded tool, with the identity that survives a replay of its step."""

    ctx: Context | None
    state: RunState
    base: str
    seq: int
    kwargs: dict[str, Any]
    item: str | None = None
    """The step work item this call is (see ``current_work_item``); None outside a workflow step."""

    @property
    def id(self) -> str:
        return f"{self.base}:{self.seq}"

    async def finish(self) -> None:
        await self.state.finish(self.base, self.seq)

    async def advance(self) -> None:
        async with self.state.locked():
            self.seq = await self.state.advance(self.base, self.seq, self.item)


class _Settled(Event):
    """Never sent: a step that re-runs for an answer its call has already had waits on it, so that pass
    ends without a second result (an event type of its own, and no requirements, so a restore does not
    re-run the step for it either)."""


class _Guard:
    def __init__(self, inner: BaseTool, shield: Shield, local: LocalState, approval_timeout: float | None,
                 answers: bool, instructions: str | None = None) -> None:
        self.inner = inner
        self.instructions = instructions
        self.answers = answers
        """The result is shown to the user as the agent's answer (``return_direct``)."""
        self.async_inner = adapt_to_async_tool(inner)
        self.name = inner.metadata.get_name()
        self.shield = shield
        self.local = local
        self.approval_timeout = approval_timeout
        self.inner_ctx_param = inner.ctx_param_name if isinstance(inner, FunctionTool) and \
            inner.requires_context else None
        schema = inner.metadata.fn_schema
        self.bound = _bound_params(inner, list(schema.model_fields) if schema is not None else [])

    async def run(self, ctx: Context | None, kwargs: dict[str, Any]) -> Any:
        state: RunState = StoreState(ctx) if ctx is not None else self.local
        # the call's identity is the call as the model wrote it, which the agent's events carry
        base = call_base(self.name, kwargs, current_tool_id(self.name))
        if not self.bound.isdisjoint(kwargs):
            # the application binds these out of the model's reach (a user id, a key); FunctionTool would let a
            # value the model wrote win over the bound one, as with any keyword (see _bound_params)
            kwargs = {k: v for k, v in kwargs.items() if k not in self.bound}
        return await self._run(ctx, state, base, current_work_item(base) if ctx is not None else None, kwargs)

    async def _run(self, ctx: Context | None, state: RunState, base: str, item: str | None,
                   kwargs: dict[str, Any]) -> Any:
        decision: Decision | None = None
        entry: LedgerEntry | None = None
        settled: str | None = None
        async with state.locked():
            seq, seen = await state.reserve(base, item)
            call = _Call(ctx, state, base, seq, kwargs, item)
            review = await state.pending(_review_key(call.id))
            request = await state.pending(call.id) if review is None else None
            if review is None and request is None:
                done = state.settled()
                settled = done.get(_review_key(call.id), done.get(call.id))
                if settled is None and seen:
                    # the step ran before (a restore of a run saved while it ran): what the call did stands
                    run_ctx = await state.context()
                    entry = self.shield.ledger.get(run_ctx.thread_id or run_ctx.run_id, call.id)
                if settled is None and entry is None:
                    # first pass; a replay finds the request (or the result's review) and goes back to the wait
                    decision = await self.shield.acheck_tool_call(
                        self.name, kwargs, context=await self._context(ctx, state), tool_call_id=call.id,
                        instructions=self.instructions or known_instructions())
                    await state.save_context(decision.context)
                    if decision.needs_approval and ctx is not None:
                        request = self.shield.approval_request(decision, tool_args=kwargs)
                        await state.set_pending(call.id, request)
        if settled is not None:
            return await self._park(call, settled)
        if entry is not None:
            return await self._replayed(call, entry)
        if review is not None:  # the tool ran and its result waits for a reviewer: back to that wait
            return await self._release(call, review)
        if decision is not None and request is None:
            if decision.blocked:
                await call.finish()
                raise refuse_call(decision)
            if decision.needs_approval:  # outside a workflow: nobody to ask
                await call.finish()
                raise no_reviewer(decision)
            return await self._execute(call, decision)
        assert request is not None
        answer = await self._answer(call, request)
        thread_id = _thread_of(request)
        earlier: LedgerEntry | None = None
        async with state.locked():
            settled = state.settled().get(call.id)
            if settled is None:
                state.settled()[call.id] = request.id
                await state.drop_pending(call.id)
                # the durable mark of the answer: the call's ledger row, claimed before it can run
                earlier = self.shield.ledger.claim(thread_id, call.id, self.name)
        if settled is not None:  # another delivery of this answer re-ran the step and acted on it
            return await self._park(call, request.id, answer)
        if earlier is not None:  # answered before, in another copy of this run (a restored context)
            self._refused(call, request, answer, thread_id)
            return await self._replayed(call, earlier)
        final = await self.shield.aresolve_approval(request, answer, tool_args=call.kwargs,
                                                    context=await state.context())
        if final.blocked:
            await call.finish()
            refusal = None if final.reply else refuse_call(final)
            self.shield.ledger.complete(thread_id, call.id, final.reply or str(refusal),
                                        "error" if refusal is not None else "success")
            if refusal is not None:
                raise refusal
            return final.reply
        return await self._execute(call, final, claimed=thread_id)

    async def _context(self, ctx: Context | None, state: RunState) -> RunContext:
        """The run's context for a first decision; a run's first guarded call starts it from what its memory
        holds (see ``read_memory``)."""
        if ctx is None or await state.started():
            return await state.context()
        context = await read_memory(ctx, self.shield, await state.context())
        await state.save_context(context)
        return context

    async def _answer(self, call: _Call, request: ApprovalRequest) -> list[ApprovalDecision]:
        """The reviewers' decisions (what ``resolve_approval`` reads), or a denial when none came in time."""
        assert call.ctx is not None
        timeout = self.approval_timeout
        deadline = self.shield.approval_deadline(request)  # a policy changed since may have shortened it
        if timeout is None and deadline is not None:
            timeout = max(0.0, (deadline - datetime.now(UTC)).total_seconds())
        waiter = f"airs-approval:{request.id}"
        for attempt in itertools.count():
            try:
                answer = await call.ctx.wait_for_event(
                    ApprovalResponse, waiter_event=ApprovalRequired.from_request(request),
                    waiter_id=f"{waiter}#{attempt}" if attempt else waiter,
                    requirements={"request_id": request.id}, timeout=timeout)
            except TimeoutError:
                return [ApprovalDecision(type="reject", reviewer="airs:timeout",
                                         reason=f"no answer within {timeout or 0:.0f} s; denied")]
            if answer.request_id == request.id:
                return answer.answers()
            # The runtime does not save a waiter's requirements: restored, it takes any ApprovalResponse until
            # its step has run again. That answer is another request's; this one waits on (a waiter of its own:
            # the resolved one keeps returning that answer while this step is unfinished).
        raise AssertionError("unreachable")  # pragma: no cover

    async def _park(self, call: _Call, request_id: str, answer: Sequence[ApprovalDecision] = ()) -> Any:
        """End a pass of the step that a second delivery of an answer started: the call has had its one
        decision and its one result, so this pass returns none (it waits on an event nobody sends)."""
        self.shield.record("approval_refused", {
            "request_id": request_id, "tool_name": self.name, "tool_call_id": call.id, **_who(answer),
            "reason": "the request was answered already; a second delivery of an answer is ignored"})
        if call.ctx is None:  # pragma: no cover - only a workflow step re-runs
            raise unknown_outcome(self.name)
        await call.ctx.wait_for_event(_Settled, waiter_id=f"airs-settled:{call.id}", timeout=None)
        raise unknown_outcome(self.name)  # pragma: no cover - nothing sends _Settled

    def _refused(self, call: _Call, request: ApprovalRequest, answer: Sequence[ApprovalDecision],
                 thread_id: str) -> None:
        self.shield.record("approval_refused", {
            "request_id": request.id, "tool_name": self.name, "tool_call_id": call.id, "thread_id": thread_id,
            **_who(answer),
            "reason": "the request was answered before (in another copy of this run); that outcome stands"})

    async def _execute(self, call: _Call, decision: Decision, *, claimed: str | None = None) -> Any:
        """Run the decided call once. ``claimed``: the thread id under which the caller has claimed the call
        in the ledger already (an answered approval claims it when the answer arrives)."""
        if claimed is not None:
            thread_id = claimed
        else:
            # the decision carries the run's ids
            thread_id = decision.context.thread_id or decision.context.run_id
            entry = self.shield.ledger.claim(thread_id, call.id, self.name)
            if entry is not None:
                return await self._replayed(call, entry)
        ran = run_args(decision, call.kwargs)
        call.state.show_args(call.base, ran)
        args = ran if self.inner_ctx_param is None else {**ran, self.inner_ctx_param: call.ctx}
        started = time.perf_counter()
        try:
            output = await self.async_inner.acall(**args)
        except Exception as exc:
            if _is_waiting(exc):
                # The inner tool paused on ctx.wait_for_event; the step will replay once the event arrives.
                # Close this attempt (nothing after its wait ran) and move the sequence on, so the replay
                # is a new, checked attempt that re-enters the tool instead of hitting this claim.
                self.shield.ledger.complete(thread_id, call.id, "paused: the tool waits for a workflow event",
                                            WAITING)
                self._record(decision, call, thread_id, WAITING, started=started, result_correlation_id=None)
                await call.advance()
                raise
            error: Exception | None = await self._failed(call, decision, thread_id, exc, started)
            if error is exc:
                raise
        else:
            error = None
        if error is not None:
            # raised outside the handler: the tool's own error, whose words this one withholds or masks, is not
            # chained to it (as its cause or context) for a traceback or a UI showing the output's error to print
            raise error
        result = _Result.of(output)
        text = result.text
        shown: Decision | None = None
        async with call.state.locked():
            checked = await self.shield.acheck_tool_result(self.name, result.payload,
                                                           context=await call.state.context(), tool_call_id=call.id)
            redacted = result_content(checked, result.payload)
            texts = result.split(redacted) if redacted is not None else None
            if redacted is not None and texts is None:  # a redaction across two blocks: nothing safe to keep
                checked = checked.model_copy(update={
                    "action": Action.BLOCK,
                    "reason": f"{checked.reason}; the redaction spans two content blocks, so the result is withheld"})
            rewritten = _plain(texts) if texts is not None else None
            after = checked.context
            if self.answers and not (checked.blocked or checked.needs_approval) and not is_answer_guarded():
                shown = await self.shield.acheck_output(rewritten if rewritten is not None else text,
                                                        context=after)
                after = shown.context
            held = checked if checked.needs_approval else (
                shown if shown is not None and shown.needs_approval else None)
            asking = held is not None and call.ctx is not None
            # a call whose result waits for a reviewer stays open: its step re-runs after the answer and must
            # find the same call (see _release)
            dumped = await (call.state.save_context(after) if asking
                            else call.state.save_and_finish(after, call.base, call.seq))
        extra = {"context": dumped}
        failed = bool(getattr(output, "is_error", False))
        self._record(decision, call, thread_id, "error" if failed else "success",
                     started=started, result_correlation_id=checked.correlation_id)
        if held is not None and asking:
            # nobody reads it before a reviewer does (the model, or the user for a return_direct answer);
            # the tool has run, so what the reviewer releases is replayed from the ledger, never re-run
            content = rewritten if rewritten is not None else text
            review = self.shield.approval_request(held, payload_preview=content if rewritten is not None
                                                  else result.preview)
            kept: dict[str, Any] = {**extra, REVIEW: review.model_dump(mode="json")}
            if held is shown and shown.rewritten is not None:  # the answer's redaction holds after an approval
                content = shown.rewritten
            elif result.blocks is not None:  # an approval releases the blocks (an image beside the text stays)
                kept[BLOCKS] = _dumped(result.rebuilt(texts) if texts is not None else result.blocks)
            self.shield.ledger.complete(thread_id, call.id, content, REVIEW, kept)
            async with call.state.locked():
                await call.state.set_pending(_review_key(call.id), review)
            return await self._release(call, review)
        # a blocked result never reaches the model, nor does one that needs a reviewer when there is none
        # (outside a workflow); a blocked answer is replaced by the refusal below
        withheld = checked if checked.blocked else held
        if withheld is not None:
            refusal = withhold_output(withheld, self.name)
            self.shield.ledger.complete(thread_id, call.id, str(refusal), "error", extra)
            raise refusal
        if shown is not None:
            current = rewritten if rewritten is not None else text
            released = shown.released(current)
            final = refusal_text(shown) if released is None else released
            rewritten = final if final != current else rewritten
        self.shield.ledger.complete(thread_id, call.id, rewritten if rewritten is not None else text,
                                    "error" if failed else "success", extra)
        if rewritten is None:  # as the tool made it: its raw_output (a query's sources) and is_error too
            return _Kept(_given(output, ran)) if isinstance(output, ToolOutput) else output
        if shown is None or (texts is not None and rewritten == _plain(texts)):
            # the redaction only: block by block, so an image beside a masked text block stays
            given: Any = result.rebuilt(texts) if texts is not None else rewritten
        else:
            given = rewritten
        if not isinstance(output, ToolOutput):
            return given
        # rewritten: raw_output is what the model reads now (the tool's own would carry what was masked)
        return _Kept(ToolOutput(blocks=given if isinstance(given, list) else [TextBlock(text=given)],
                                tool_name=output.tool_name, raw_input=raw_input_of(ran), raw_output=given,
                                is_error=failed))

    async def _failed(self, call: _Call, decision: Decision, thread_id: str, exc: Exception,
                      started: float) -> Exception:
        """The error to raise for a tool that raised. Its message is what the model reads as the tool's output
        (an HTTP error body, a file quoted in a parse error), so it is checked like a result: it taints the
        run, a redaction rewrites it, and a block withholds it (as does a review: an error is not held for
        one). Either way the output stays an error. All the error can say is read (its causes, notes and grouped
        errors too): a stream's ``ToolCallResult`` carries the exception, and a traceback shows them."""
        text = str(exc)  # what the model reads; the rest goes into the decision, and goes with a replacement
        rest = error_parts(exc)
        payload, sep = joined(text, rest)
        async with call.state.locked():
            checked = await self.shield.acheck_tool_result(self.name, payload, context=await call.state.context(),
                                                           tool_call_id=call.id)
            dumped = await call.state.save_and_finish(checked.context, call.base, call.seq)
        redacted = result_content(checked, payload)
        parts = split_joined(redacted, sep, 1 + len(rest)) if redacted is not None and sep else None
        error: Exception = exc
        if checked.blocked or checked.needs_approval or (redacted is not None and sep and parts is None):
            error = withhold_output(checked, self.name)
        elif redacted is not None and redacted != payload:
            error = ToolFailedError(parts[0] if parts is not None else redacted)
        elif not read_whole(exc):
            # a chain longer than what was read: the unread rest is not passed on (a stream's ToolCallResult
            # carries the exception, and a traceback prints all of it); its message, which was read, is
            error = ToolFailedError(text)
        self.shield.ledger.complete(thread_id, call.id, str(error), "error", {"context": dumped})
        self._record(decision, call, thread_id, "error", started=started,
                     result_correlation_id=checked.correlation_id)
        return error

    async def _replayed(self, call: _Call, entry: LedgerEntry) -> Any:
        if entry.state != "done":
            raise unknown_outcome(self.name)
        if entry.status == REVIEW:  # ran, and waits for a reviewer (the pending mark was lost): ask again
            return await self._release(call, ApprovalRequest.model_validate((entry.extra or {})[REVIEW]))
        if entry.status == WAITING:  # an attempt that paused inside the tool; nothing after its wait ran
            await call.advance()
            return await self._run(call.ctx, call.state, call.base, call.item, call.kwargs)
        stored = (entry.extra or {}).get("context")
        if stored is not None:
            async with call.state.locked():
                current = await call.state.context()
                # the store may predate the crash that interrupted the first pass; keep the newer taint
                if _newest_read(stored.get("observations") or ()) > max(
                        (o.at for o in current.observations), default=0.0):
                    await call.state.save_context(decode_context(stored))
        await call.finish()
        if entry.status == "error":
            raise ToolRefusedError(entry.content or f"Tool call {self.name!r} failed earlier")
        return _loaded((entry.extra or {}).get(BLOCKS), entry.content or "")

    async def _release(self, call: _Call, review: ApprovalRequest) -> Any:
        """The reviewer's answer on a result that already ran: approve releases what the ledger kept (the
        result's blocks, or its text), reject withholds it, respond puts the reviewer's message in its place;
        no answer in time denies."""
        answer = await self._answer(call, review)  # the first pass pauses here; the step re-runs with the answer
        thread_id = _thread_of(review)
        key = _review_key(call.id)
        earlier: LedgerEntry | None = None
        async with call.state.locked():
            settled = call.state.settled().get(key)
            if settled is None:
                call.state.settled()[key] = review.id
                await call.state.drop_pending(key)
                await call.state.finish(call.base, call.seq)
                # the durable mark of the answer (the call's own row holds the result under review)
                earlier = self.shield.ledger.claim(thread_id, key, self.name)
        if settled is not None:
            return await self._park(call, review.id, answer)
        entry = self.shield.ledger.get(thread_id, call.id)
        if earlier is not None:  # answered before, in another copy of this run (a restored context)
            self._refused(call, review, answer, thread_id)
            if entry is None or entry.status == REVIEW:  # that answer's outcome was never recorded
                raise unknown_outcome(self.name)
            return await self._replayed(call, entry)
        content = entry.content if entry is not None and entry.content is not None else ""
        # with the text it releases: approved under a policy changed since, it is re-checked under it
        final = await self.shield.aresolve_approval(review, answer, held=content, context=await call.state.context())
        extra = {k: v for k, v in ((entry.extra if entry is not None else None) or {}).items() if k != REVIEW}
        blocks = extra.pop(BLOCKS, None)
        if final.allowed and final.rewritten is not None:
            # redacted under the policy in force: the text is what was re-checked, so it goes without the blocks
            content, blocks = final.rewritten, None
        if final.allowed:
            # a replay of this call later in the run must return what the model was given now
            if blocks is not None:
                extra[BLOCKS] = blocks
            self._settle(thread_id, call.id, content, "success", extra)
            return _loaded(blocks, content)
        if final.reply:
            self._settle(thread_id, call.id, str(final.reply), "success", extra)
            return str(final.reply)
        refusal = withhold_output(final, self.name)
        self._settle(thread_id, call.id, str(refusal), "error", extra)
        raise refusal

    def _settle(self, thread_id: str, call_id: str, content: str, status: str, extra: dict[str, Any]) -> None:
        """Record what the model is given for a reviewed result on the call's row, and close its review's."""
        self.shield.ledger.complete(thread_id, call_id, content, status, extra)
        self.shield.ledger.complete(thread_id, _review_key(call_id), "", status)

    def _record(self, decision: Decision, call: _Call, thread_id: str, status: str, *, started: float,
                result_correlation_id: str | None) -> None:
        self.shield.record("tool_execution", {
            "span_id": _active_span_id(), "li_run_id": _active_run_tag(),
            "correlation_id": decision.correlation_id, "result_correlation_id": result_correlation_id,
            "approval_request_id": decision.approval_request_id, "tool_name": self.name,
            "tool_call_id": call.id, "thread_id": thread_id, "status": status,
            "edited": decision.redacted_args is not None,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        })


@dataclass(frozen=True)
class _Result:
    """A tool's output as the guard reads it: the words of every block (``ToolOutput.content`` joins the text
    blocks only; a citable block's nested text, a thinking block, a title would slip past), one part per
    block, so a redaction can be put back block by block; and, as one part more, the words of its
    ``raw_output`` that the blocks lack (a query engine's source nodes: the model never reads them, but the
    query's own model did, and they reach whoever reads the output, on the event stream or in a return_direct
    answer's ``raw``)."""

    parts: tuple[str, ...]
    blocks: tuple[Any, ...] | None
    payload: str
    sep: str | None
    raw: str | None = None

    @classmethod
    def of(cls, output: Any) -> _Result:
        blocks = getattr(output, "blocks", None) if isinstance(output, ToolOutput) else None
        if not blocks:
            parts: tuple[str, ...] = (stringify(output),)
        else:
            parts = tuple("\n".join(words(b.model_dump() if hasattr(b, "model_dump") else b)) for b in blocks)
        raw = _raw_words(output, parts) if isinstance(output, ToolOutput) else None
        if not blocks and raw is None:
            return cls(parts, None, parts[0], None)
        payload, sep = joined(parts[0], [*parts[1:], *(() if raw is None else (raw,))])
        return cls(parts, tuple(blocks) if blocks else None, payload, sep, raw)

    @property
    def text(self) -> str:
        return _plain(self.parts)

    @property
    def preview(self) -> str:
        """What a reviewer reads: the text, and the raw output's words when they were part of the decision."""
        return self.text if self.raw is None else f"{self.text}\n{self.raw}"

    def split(self, redacted: str) -> list[str] | None:
        """The redacted payload back in the blocks' parts (without the raw output's: a redaction drops the raw
        output); None when a redaction crossed from one part into the next."""
        if not self.sep:
            return [redacted]
        texts = split_joined(redacted, self.sep, len(self.parts) + (self.raw is not None))
        return None if texts is None else texts[:len(self.parts)]

    def rebuilt(self, texts: Sequence[str]) -> Any:
        """The blocks with the redacted texts: unchanged blocks as they were, a changed text block rewritten,
        a changed block of another kind (a citable block) replaced by a text block with its redacted words."""
        if self.blocks is None:
            return texts[0]
        out: list[Any] = []
        for block, old, new in zip(self.blocks, self.parts, texts, strict=True):
            if new == old:
                out.append(block)
            elif isinstance(block, TextBlock):
                out.append(block.model_copy(update={"text": new}))
            else:
                out.append(TextBlock(text=new))
        return out


def _raw_words(output: ToolOutput, parts: Sequence[str]) -> str | None:
    """The words of ``output.raw_output`` that the blocks' ``parts`` lack (None when there are none: a function's
    string, dict or list is its content, rendered whole)."""
    raw, text = output.raw_output, "\n".join(parts)
    if _json_like(raw) and (raw if isinstance(raw, str) else str(raw)) in text:
        return None
    said = list(dict.fromkeys(words(_plain_data(raw))))
    if len(said) * len(text) <= _FILTER_BUDGET:  # past it, reading a word twice costs less than looking for it
        said = [w for w in said if w not in text]
    return "\n".join(said) or None


_FILTER_BUDGET = 20_000_000
"""Characters compared at most to leave out of the raw output's words those the content holds already."""


def _json_like(value: Any, depth: int = 0) -> bool:
    """JSON-like data, which ``str`` renders whole (a ``FunctionTool``'s content is ``str`` of its return value)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if depth > 16:
        return False
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_like(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_json_like(v, depth + 1) for v in value)
    return False


def _plain_data(value: Any, depth: int = 0) -> Any:
    """``value`` as the JSON-like data :func:`words` reads: pydantic models (a source node) dumped, dataclasses (a
    query ``Response``) by field, other objects by the text they show."""
    if value is None or isinstance(value, (str, int, float, bool, bytes)):
        return value
    try:
        if depth > 16:
            return str(value)
        if isinstance(value, Mapping):
            return {str(k): _plain_data(v, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [_plain_data(v, depth + 1) for v in value]
        if hasattr(value, "model_dump"):
            return _plain_data(value.model_dump(), depth + 1)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: _plain_data(getattr(value, f.name, None), depth + 1) for f in dataclasses.fields(value)}
        return str(value)
    except Exception:  # a model that cannot dump itself (a cycle), a broken __str__: the tool has run, go on
        return object.__repr__(value)


def _plain(parts: Sequence[str]) -> str:
    """Block texts as the model reads them in one string (blocks without words leave no blank line)."""
    return "\n".join(p for p in parts if p)


class _Kept:
    """A ``ToolOutput`` the guarded function hands back whole: ``FunctionTool`` would rebuild one from a
    return value and lose ``raw_output`` and ``is_error``, so its output callback (:func:`_unwrap`) returns
    this one instead."""

    __slots__ = ("output",)

    def __init__(self, output: ToolOutput) -> None:
        self.output = output


def _given(output: ToolOutput, args: Mapping[str, Any]) -> ToolOutput:
    return output.model_copy(update={"raw_input": raw_input_of(args)})


def _unwrap(raw: Any) -> ToolOutput | None:
    return raw.output if isinstance(raw, _Kept) else None


async def _aunwrap(raw: Any) -> ToolOutput | None:
    return _unwrap(raw)


def _active_span_id() -> str | None:
    """The instrumentation span of this tool invocation (``AIRSEventHandler`` records the same id)."""
    from llama_index.core.instrumentation.span import active_span_id

    return active_span_id.get()


def _active_run_tag() -> Any:
    from llama_index_instrumentation.dispatcher import active_instrument_tags

    return active_instrument_tags.get().get("llamaindex.run_id")


BLOCKS = "blocks"
"""Ledger ``extra`` key: the content blocks (JSON) of a reviewed result, released as blocks on approval."""


def _dumped(blocks: Sequence[Any]) -> list[dict[str, Any]]:
    return [b.model_dump(mode="json") for b in blocks]


def _loaded(blocks: Any, text: str) -> Any:
    """The kept blocks back (the wrapper returns them, so ``FunctionTool`` rebuilds the same output), or
    ``text`` when none were kept or they no longer load (a block type this LlamaIndex does not know)."""
    if not isinstance(blocks, list) or not blocks:
        return text
    adapter = _block_adapter()
    try:
        return [adapter.validate_python(b) for b in blocks]
    except ValidationError:
        return text


@cache
def _block_adapter() -> TypeAdapter[Any]:
    return TypeAdapter(ContentBlock)


def _review_key(call_id: str) -> str:
    return f"{call_id}#result"


def _who(answer: Sequence[ApprovalDecision]) -> dict[str, Any]:
    """Who answered what, for the audit of an answer that was not used."""
    return {"reviewer": answer[0].reviewer if answer else None, "answer": answer[0].type if answer else None}


def _thread_of(request: ApprovalRequest) -> str:
    """The ledger's thread for a request's call: the one ``resolve_approval`` gives the final decision."""
    return request.thread_id or request.run_id or ""


def _is_waiting(exc: BaseException) -> bool:
    """The workflow runtime's "waiting for event" control exception (raised by ``ctx.wait_for_event``)."""
    try:
        from workflows.runtime.types.results import WaitingForEvent
    except ImportError:  # pragma: no cover - other runtimes
        return False
    return isinstance(exc, WaitingForEvent)


def _newest_read(observations: Any) -> float:
    """When the newest of these dumped observations was read (a long run's count stops growing at its bound)."""
    return max((float(o.get("at", 0.0)) for o in observations if isinstance(o, Mapping)), default=0.0)
