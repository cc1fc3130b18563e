"""The guard steps' work as plain async functions, for use inside your own workflow steps.

Each keeps the run's ``RunContext`` in ``ctx.store`` (the same key ``guard_tools`` uses), so taint
read by a guarded tool reaches the output guard and an approval survives a persisted context.

>>> @step
... async def check(self, ctx: Context, ev: StartEvent) -> MyEvent | StopEvent:  # doctest: +SKIP
...     d = await guard_input(ctx, shield, ev.user_msg)
...     return StopEvent(result=refusal_text(d)) if d.blocked else MyEvent(...)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llama_index.core.llms import ChatMessage, MessageRole

from .._decision import ApprovalRequest, Decision, RunContext
from .._shield import Shield
from ._events import ApprovalRequired, ApprovalResponse
from ._state import StoreState
from ._translate import message_words, with_message_words

FLOW_PENDING_KEY = "airs_flow_pending"
AGENT_CTX_KEY = "airs_agent_ctx"
"""``ctx.store`` key (``AIRSWorkflow``): the agent's context between runs (its memory), sealed (see ``_persist``)."""
AGENT_WAITING_KEY = "airs_agent_waiting"
"""``ctx.store`` key: the agent's context while one of its guarded tools waits for a reviewer (saved with this
run, so a restored run resumes the agent where it waited rather than from the user's message), sealed."""
AGENT_PENDING_KEY = "airs_agent_pending"
"""``ctx.store`` key (``AIRSWorkflow``): the wrapped agent's pending approval requests, ``{call id: request}``,
while it waits with its context kept in this run's store."""


async def guard_input(ctx: Any, shield: Shield, text: str) -> Decision:
    """Check the user's message (channel ``user_input``) and keep the updated RunContext."""
    state = StoreState(ctx)
    async with state.locked():
        d = await shield.acheck_input(text, context=await state.context())
        await state.save_context(d.context)
    return d


async def guard_history(ctx: Any, shield: Shield, history: Any) -> tuple[list[Any], Decision | None]:
    """Check the chat history a caller passes with ``run(chat_history=...)``.

    The caller writes every message in it, so only the user's messages count as user input (channel
    ``user_input``, joining the user goal); assistant, system and tool messages are untrusted content
    (channel ``retrieved``, source ``chat_history:<role>``): a forged assistant turn that "agreed" to
    something is an injection like any other. Every block of a message is read (a cited document, a thinking
    block, a tool call's arguments: the model reads them all). Returns the messages to pass on (as their
    redacted words where the guard rewrote them) and, when one is refused (blocked, or needing a review nobody
    is asked for here), that Decision.
    """
    out: list[Any] = []
    state = StoreState(ctx)
    for raw in history or ():
        msg = raw if isinstance(raw, ChatMessage) else ChatMessage.model_validate(raw)
        text = message_words(msg)  # the message goes on as it is when this passes: every block of it
        if not text.strip():
            out.append(msg)
            continue
        if msg.role == MessageRole.USER:
            d = await guard_input(ctx, shield, text)
        else:
            async with state.locked():
                d = await shield.acheck_retrieved(text, source=f"chat_history:{msg.role.value}",
                                                  context=await state.context())
                await state.save_context(d.context)
        released = d.released(text)
        if released is None:
            return out, d
        if released == text:
            out.append(msg)
        else:  # every block in its place with its words redacted; the redacted text alone when that cannot be
            out.append(with_message_words(msg, released) or ChatMessage(role=msg.role, content=released))
    return out, None


async def read_memory(ctx: Any, shield: Shield, context: RunContext) -> RunContext:
    """``context`` after the tool results that the agent's memory shows its model from before this run's request
    (channel ``retrieved``, source ``memory:tool``, or ``memory:observation`` for a ReAct agent's), for a run that
    starts without a context: a plain agent run with ``memory=`` (or ``chat_history=``) and a new ``Context`` reads
    what earlier runs' tools returned, and an injection there steers this run as it did the one that read it, so its
    values taint this run's calls. The
    messages are not rewritten (the model has read them); a result an earlier guard withheld or redacted is in
    the memory as that guard left it."""
    from llama_index.core.memory import BaseMemory

    memory = await ctx.store.get("memory", default=None)
    if not isinstance(memory, BaseMemory):
        return context
    messages = await memory.aget()  # what the agent gives its model
    # up to this run's request (the newest user turn): what follows it is this run's own work so far
    asked = max((i for i, m in enumerate(messages) if m.role == MessageRole.USER), default=len(messages))
    for msg in messages[:asked]:
        if msg.role == MessageRole.TOOL:
            text, source = message_words(msg), "memory:tool"
        elif msg.role == MessageRole.ASSISTANT and (at := (msg.content or "").find(_OBSERVED)) >= 0:
            # a ReActAgent keeps a run's reasoning as one assistant message, its tools' results in it as
            # "Observation: ..." lines: all from the first on (an observation can fake the line that ends it)
            text, source = (msg.content or "")[at:], "memory:observation"
        else:
            continue
        if text.strip():
            context = (await shield.acheck_retrieved(text, source=source, context=context)).context
    return context


_OBSERVED = "Observation:"
"""How a ReAct reasoning step shows a tool's result (``ObservationReasoningStep.get_content``)."""


async def guard_output(ctx: Any, shield: Shield, text: str, *, output_schema: Mapping[str, Any] | None = None,
                       structured: Mapping[str, Any] | None = None, instructions: str | None = None) -> Decision:
    """Check a draft answer (channel ``model_output``); an attached judge runs when the router asks.

    ``structured``: the agent's structured response (``output_cls``), whose JSON ``text`` includes; the output
    schema is checked against it rather than against the text. ``instructions``: the agent's system prompt (a
    recital of it is leakage)."""
    state = StoreState(ctx)
    async with state.locked():
        d = await shield.acheck_output(text, context=await state.context(), output_schema=output_schema,
                                       structured=None if structured is None else [dict(structured)],
                                       instructions=instructions)
        await state.save_context(d.context)
    return d


async def request_approval(ctx: Any, shield: Shield, decision: Decision, *, stage: str,
                           text: str) -> ApprovalRequired:
    """Record an approval request for ``decision`` in ``ctx.store`` and return the event to emit.

    Return the event from a step (it goes to the stream without replaying anything) and handle the
    :class:`ApprovalResponse` in another step with :func:`resolve_answer`.
    """
    req = shield.approval_request(decision, payload_preview=text)
    table = dict(await ctx.store.get(FLOW_PENDING_KEY, default=None) or {})
    # what an approval releases: redacted as the policy asks (an approval never undoes a redaction)
    released = decision.rewritten if decision.rewritten is not None else text
    table[req.id] = {"stage": stage, "text": released, "request": req.model_dump(mode="json")}
    await ctx.store.set(FLOW_PENDING_KEY, table)
    return ApprovalRequired.from_request(req)


async def resolve_answer(ctx: Any, shield: Shield, ev: ApprovalResponse) -> tuple[Decision, str, str] | None:
    """Resolve a human's answer to a request made by :func:`request_approval`.

    Returns ``(decision, stage, text)`` — the final (layer ``human``) Decision, the stage it was
    asked at and the text it was about — or None when the answer is for some other request.
    """
    table = dict(await ctx.store.get(FLOW_PENDING_KEY, default=None) or {})
    entry = table.pop(ev.request_id, None)
    if entry is None:
        return None
    await ctx.store.set(FLOW_PENDING_KEY, table)
    req = ApprovalRequest.model_validate(entry["request"])
    text = str(entry["text"])
    # with the text it releases: approved under a policy changed since, it is re-checked under it (a redaction
    # there is what ``decision.released(text)`` gives)
    return await shield.aresolve_approval(req, ev.answers(), held=text), str(entry["stage"]), text


def released_text(decision: Decision, text: str) -> str | None:
    """The text to pass on for an allowed decision (redacted when the guard rewrote it), else None
    (:meth:`Decision.released`)."""
    return decision.released(text)


def refusal_text(decision: Decision) -> str:
    """What the user sees instead of a blocked message or answer; a reviewer's reply when they responded."""
    if decision.reply:
        return decision.reply
    return (f"I can't help with that: the request was stopped by AIRS ({decision.reason or decision.action.value})."
            f" [correlation_id={decision.correlation_id}]")
