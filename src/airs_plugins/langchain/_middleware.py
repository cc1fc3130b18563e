"""``AIRSMiddleware`` for LangChain v1 ``create_agent``: every hook as a sync and an async twin."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Annotated, Any, NotRequired

from langchain.agents.middleware import (
    AgentMiddleware,
    AgentState,
    ExtendedModelResponse,
    ModelRequest,
    ModelResponse,
)
from langchain.agents.middleware.types import ModelCallResult
from langchain_core.callbacks import BaseCallbackManager
from langchain_core.messages import (
    AIMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.runnables.config import var_child_runnable_config
from langgraph.constants import TAG_NOSTREAM
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.runtime import Runtime
from langgraph.types import Command

from .._context import guarded, is_suppressed
from .._decision import ApprovalRequest, Decision, RunContext, digest_text
from .._shield import Shield
from ._enforce import (
    INTERIM_WITHHELD,
    NOT_ASKED,
    OUTPUT_REFUSAL,
    PENDING_INPUT,
    ToolOutcome,
    ToolOutput,
    areported,
    ask,
    held_answer_text,
    hold,
    keep_decision,
    kept_decision,
    pinned_turn,
    refusal,
    release_held,
    released_answer,
    reported,
    resolved_once,
    tool_call_flow,
    with_checked,
)
from ._flow import Ask, Flow, Run, adrive, drive
from ._foreign import newest_checked, read_text, source_of, unread, withheld
from ._retriever import cut_reads, only_reads, put_back, take_reads, with_reads
from ._structured import (
    STRUCTURED_KEY,
    answered_calls,
    output_payload,
    provider_args,
    reparsed,
    rewritten_answers,
    split_calls,
    split_redacted,
    with_args,
)
from ._toolstream import ToolStream
from ._translate import (
    CHECKED_KEY,
    CONTEXT_KEY,
    DECISIONS_KEY,
    MESSAGE_ID,
    OUTPUT_KEY,
    agent_of,
    carrier,
    context_in,
    context_out,
    current_config,
    decision_record,
    is_ours,
    is_summary,
    merge_context,
    merge_decisions,
    merge_ids,
    message_records,
    message_text,
    server_results,
    state_get,
    thread_id_of,
    tool_call_parts,
)

INPUT_REFUSAL = "I can't help with that request: it was blocked by the AIRS input guardrail."


def _keep_pending(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any] | None:
    return right


class AIRSAgentState(AgentState[Any]):
    """``AgentState`` plus the AIRS keys (plain dicts; see ``_translate`` for the reducers)."""

    airs_context: NotRequired[Annotated[dict[str, Any] | None, merge_context]]
    airs_decisions: NotRequired[Annotated[dict[str, Any], merge_decisions]]
    airs_checked: NotRequired[Annotated[list[str], merge_ids]]
    airs_output: NotRequired[Annotated[dict[str, Any] | None, _keep_pending]]


_CLIENT_STREAMS = frozenset({"_AstreamEventsCallbackHandler", "LogStreamCallbackHandler"})
"""The callback handlers behind ``astream_events`` and ``astream_log``: they hand every model event (each
token, and the whole message at its end) to the client. LangGraph's ``nostream`` tag does not reach them."""


def _streams_to_client(handler: Any) -> bool:
    return any(c.__name__ in _CLIENT_STREAMS for c in type(handler).__mro__)


def _without_client_streams(callbacks: Any) -> Any:
    if isinstance(callbacks, list):
        return [h for h in callbacks if not _streams_to_client(h)]
    if isinstance(callbacks, BaseCallbackManager) and any(map(_streams_to_client, callbacks.handlers)):
        manager = callbacks.copy()
        for handler in [*manager.handlers, *manager.inheritable_handlers]:
            if _streams_to_client(handler):
                manager.remove_handler(handler)
        return manager
    return callbacks


@contextmanager
def unstreamed() -> Iterator[None]:
    """Run the model call inside so that no client stream sees the model's message before the guard.

    With ``stream_mode="messages"`` LangGraph streams a model's message as the model produces it, before
    the output guard has seen it: a blocked answer would reach the client anyway. Tagged ``nostream``, the
    model's own message is not streamed; LangGraph streams the messages the model node returns when it
    ends, which are the ones the guard kept (the refusal, or the redacted answer). ``astream_events`` and
    ``astream_log`` do not read that tag, so their handlers are left out of the model call: their client
    sees the model node's output, not the model's tokens or its unguarded message."""
    config = var_child_runnable_config.get()
    if config is None:
        yield
        return
    token = var_child_runnable_config.set({**config, "tags": [*(config.get("tags") or ()), TAG_NOSTREAM],
                                           "callbacks": _without_client_streams(config.get("callbacks"))})
    try:
        yield
    finally:
        var_child_runnable_config.reset(token)


def _thread_id() -> str | None:
    return thread_id_of(current_config())


def _context(state: Any, thread_id: str | None) -> RunContext:
    """The run's context as this agent's step sees it (see ``context_in``)."""
    return context_in(state, thread_id, agent_of(current_config()))


WITHHELD_INPUT = "[AIRS withheld this message: the input guardrail refused it]"


def _refused(replaced: list[Any], inputs: list[HumanMessage], at: int, text: str, ctx: RunContext,
             ids: list[str]) -> dict[str, Any]:
    """The update that answers with our refusal and ends the run (the refusal is ours: checked).

    The refused input ``inputs[at]`` (and those sent with it after it, not read yet) is withheld in state: left as
    it was, it stayed in the conversation, every later turn's model call read it (its id is checked, so no guard
    read it again), and "go on" after the refusal had the model act on what the guard refused."""
    answer = refusal(text)
    gone = {m.id for m in inputs[at:]}
    written = [*(m for m in replaced if m.id not in gone),
               *(HumanMessage(content=WITHHELD_INPUT, id=m.id) for m in inputs[at:])]
    return {"messages": [*written, answer], "jump_to": "end", CONTEXT_KEY: context_out(ctx),
            CHECKED_KEY: [*ids, *_marks(inputs, written), answer.id]}


INPUT_MARK = "airs-text:"
"""Prefix of the ``airs_checked`` entries that name a user input with the text it had when the guard read it."""


def _mark(message: Any) -> str:
    return f"{INPUT_MARK}{message.id}#{digest_text(message_text(message, every_block=True))}"


def _marks(inputs: list[HumanMessage], written: list[Any]) -> list[str]:
    """The marks of the inputs the guard read, with the text it left in state (redacted, withheld)."""
    by_id = {m.id: m for m in written if isinstance(m, HumanMessage)}
    return [_mark(by_id.get(m.id, m)) for m in inputs if m.id]


def _edited(messages: list[Any], checked: set[str], since: int) -> list[HumanMessage]:
    """The user inputs the guard read whose text has changed since: LangGraph replaces a message in place when a
    new one carries its id, so an input sent with the id of an earlier one rewrites that turn, before the newest
    checked message, where the guard does not look for new input. (Inputs read before the marks were kept have
    none, and are not looked at.)"""
    marked = {c[len(INPUT_MARK):].rpartition("#")[0] for c in checked if c.startswith(INPUT_MARK)}
    if not marked:
        return []
    return [m for m in messages[:since + 1] if isinstance(m, HumanMessage) and m.id in marked and not is_summary(m)
            and _mark(m) not in checked]


def _unchecked(messages: list[Any], checked: set[str], since: int) -> list[HumanMessage]:
    """The human messages the input guard has not read: those after the newest message whose id is checked
    (``since``).

    ``airs_checked`` keeps only the newest ids, so a long thread's old inputs fall out of it. The newest
    checked message (an input, or a message this agent or its tools wrote) came after every input read so far,
    since each check reads all unread input: only what follows it is new, and an old input, a refused one too,
    is never taken for this turn's.
    A conversation summary is written in front of the messages it replaces, so one is looked for
    everywhere (reading a summary again only records it again as untrusted content)."""
    return [m for i, m in enumerate(messages) if isinstance(m, HumanMessage) and m.id and m.id not in checked
            and (i > since or is_summary(m))]


def input_flow(shield: Shield, state: Any, ctx: RunContext | None = None, *,
               foreign: bool = True, read: Sequence[str] = ()) -> Flow[dict[str, Any] | None]:
    """Check every human message not checked yet (the new input of this invoke, usually one).

    A conversation summary (``SummarizationMiddleware``) is checked as untrusted content instead, and so is
    every other message this agent did not write (another agent's answers and tool results, see ``_foreign``).

    Returns the state update; a block (or a refused approval) adds a refusal and ``jump_to: "end"``.
    ``foreign=False``: human messages only (a hand-built graph, whose model and tool nodes do not mark the
    messages they write as the agent's own). ``read``: documents a guarded retriever returned since the last model
    call; where a hook formatted them into a human message they are cut out of it before it is decided, so that
    their values never pass as the user's own words (see ``_retriever``).
    """
    messages = list(state_get(state, "messages") or ())
    checked = set(state_get(state, CHECKED_KEY) or ())
    since = newest_checked(messages, checked)
    new = [*_edited(messages, checked, since), *_unchecked(messages, checked, since)]
    others = unread(messages, checked, since) if foreign else []
    if not new and not others:
        return None
    thread_id = _thread_id()
    ctx = ctx or _context(state, thread_id)
    ids = [m.id for m in [*others, *new] if m.id]
    replaced: list[Any] = []
    for message in others:
        text = read_text(message)
        if not text.strip():
            continue
        d: Decision = yield Ask("check_retrieved", (text,), {"source": source_of(message), "context": ctx})
        ctx = d.context
        passed = d.released(text)
        if passed != text:
            replaced.append(withheld(message, d, passed))
    summaries = [m for m in new if is_summary(m)]
    for message in summaries:
        # written by a model that read the whole conversation, tool results included: untrusted content,
        # never the user's words (their values would pass the taint rules as the user's own)
        summary = message_text(message, every_block=True)
        d = yield Ask("check_retrieved", (summary,), {"source": "summarization", "context": ctx})
        ctx = d.context
        passed = d.released(summary)
        if passed != summary:
            content = passed if passed is not None else f"[AIRS withheld the summary: {d.reason}]"
            replaced.append(message.model_copy(update={"content": content}))
    inputs = [m for m in new if not is_summary(m)]
    for at, message in enumerate(inputs):
        text = message_text(message, every_block=True)  # a document block is the user's words too
        words, cut = cut_reads(text, read) if read else (text, {})
        if cut and only_reads(words, cut):
            continue  # nothing but documents, decided when the retriever returned them
        slot, digest = PENDING_INPUT + str(message.id), digest_text(text)
        kept, kept_ctx = kept_decision(shield.ledger, thread_id, slot, ctx)
        request: ApprovalRequest | None = None
        redacted: Any = None
        if kept is not None and kept.get("digest") == digest:
            # the model node re-runs after the resume: answer the request the reviewer saw, do not decide anew
            request, ctx, redacted = ApprovalRequest.model_validate(kept["request"]), kept_ctx, kept.get("redacted")
        else:
            d = yield Ask("check_input", (words,), {"context": ctx})
            ctx = d.context
            if d.blocked:
                return _refused(replaced, inputs, at, INPUT_REFUSAL, ctx, ids)
            redacted = d.rewritten  # what an approval releases is redacted too
            if redacted is not None and cut:
                redacted = put_back(redacted, cut)
                if redacted is None:  # the redaction cannot be told from the documents around it: nothing passes
                    return _refused(replaced, inputs, at, INPUT_REFUSAL, ctx, ids)
            if d.needs_approval:
                request = shield.approval_request(d, payload_preview=words)
                keep_decision(shield.ledger, thread_id, slot, "user_input", {
                    "request": request.model_dump(mode="json"), "digest": digest, "redacted": redacted}, ctx)
        if request is not None:
            answer = ask(request.model_dump(mode="json"))
            final = None
            if answer is not NOT_ASKED:
                # with the text it releases: approved under a policy changed since, it is re-checked under it
                final = yield from resolved_once(shield.ledger, thread_id, request, answer, context=ctx,
                                                 held=redacted if isinstance(redacted, str) else text)
            if final is None or not final.allowed:
                said = final.reply if final is not None else None
                return _refused(replaced, inputs, at, said or INPUT_REFUSAL, ctx, ids)
            if final.rewritten is not None:
                redacted = final.rewritten
        if isinstance(redacted, str):
            replaced.append(HumanMessage(content=redacted, id=message.id))
    update: dict[str, Any] = {CONTEXT_KEY: context_out(ctx), CHECKED_KEY: [*ids, *_marks(inputs, replaced)]}
    if replaced:
        update["messages"] = replaced
    return update


@dataclass(frozen=True)
class Answer:
    """What the output guard made of the model's message."""

    message: AIMessage
    update: dict[str, Any]
    withdrawn: bool = False
    """Blocked: the message is a refusal, and a structured answer goes with it."""
    structured_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Call id → redacted arguments of a structured answer (the structured response must follow)."""
    held: bool = False
    """Needs a reviewer's approval: the answer waits in ``airs_output`` until ``after_agent``."""


def output_flow(shield: Shield, ai: AIMessage, ctx: RunContext,
                answered: frozenset[str] = frozenset(), instructions: str | None = None) -> Flow[Answer]:
    """Guard the model's message and decide each of its tool calls before any of them runs.

    ``answered`` are the calls the model node answered itself: structured output (see ``_structured``),
    checked as part of the answer and never decided as tool calls. ``instructions``: the system prompt the
    model was called with (a recital of it, in the text or in a call, is leakage).
    """
    update: dict[str, Any] = {}
    held = False
    text = message_text(ai)
    structured, calls = split_calls(ai, answered)
    payload = output_payload(text, structured)
    new_args: dict[str, dict[str, Any]] = {}
    if payload.strip():
        # text that comes with tool calls is not the answer yet, unless a structured answer (its arguments) ends
        # the run with them
        d: Decision = yield Ask("check_output", (payload,), {
            "context": ctx, "interim": bool(calls) and not structured, "instructions": instructions,
            "structured": [dict(c.get("args") or {}) for c in structured] if structured else None})
        ctx = d.context
        if d.blocked:
            return Answer(refusal(OUTPUT_REFUSAL, replace=ai), {CONTEXT_KEY: context_out(ctx)}, withdrawn=True)
        if d.rewritten is not None:  # an answer held for a reviewer is held redacted
            if not structured:
                ai = ai.model_copy(update={"content": d.rewritten})
            else:
                split = split_redacted(d.rewritten, bool(text.strip()), len(structured))
                if split is None:  # the redaction broke the JSON: nothing safe to return but a refusal
                    return Answer(refusal(OUTPUT_REFUSAL, replace=ai), {CONTEXT_KEY: context_out(ctx)},
                                  withdrawn=True)
                new_args = {str(c["id"]): a for c, a in zip(structured, split[1], strict=True)}
                ai = with_args(ai, split[0] if text.strip() else ai.content, new_args)
        if d.needs_approval and calls:
            # the run goes on with the calls, so nobody can review the text before the user reads it: withhold it
            # (the calls are decided on their own below; a structured answer among them goes with the text)
            if structured:
                return Answer(refusal(OUTPUT_REFUSAL, replace=ai), {CONTEXT_KEY: context_out(ctx)}, withdrawn=True)
            ai = ai.model_copy(update={"content": INTERIM_WITHHELD})
        if d.needs_approval and not calls:
            # held for the reviewer: see _answered (the answer leaves ``messages``) and final_answer_review
            request = shield.approval_request(d, payload_preview=payload)
            update[OUTPUT_KEY] = {"request": request.model_dump(mode="json")}
            held = True
    for server_tool, read in server_results(ai):
        # content a provider-side tool fetched for the model: taint first, so this message's calls see it
        rd: Decision = yield Ask("check_tool_result", (server_tool, read), {"context": ctx})
        ctx = rd.context
        if rd.blocked:  # the answer and its calls come from a model that read an injection: withdraw them
            return Answer(refusal(OUTPUT_REFUSAL, replace=ai), {CONTEXT_KEY: context_out(ctx)}, withdrawn=True)
    records: dict[str, Any] = {}
    if calls and ai.id is None:  # the records name the message they decided (a reused id is a new call)
        ai = ai.model_copy(update={"id": f"airs-ai-{uuid.uuid4().hex}"})
    for call in calls:
        name, args, call_id = tool_call_parts(call)
        td: Decision = yield Ask("check_tool_call", (name, args),
                                 {"context": ctx, "tool_call_id": call_id, "instructions": instructions})
        ctx = td.context
        call_request = shield.approval_request(td, tool_args=args) if td.needs_approval else None
        records[call_id] = {**decision_record(td, args, request=call_request), MESSAGE_ID: ai.id}
    if records:
        update[DECISIONS_KEY] = records
    update[CONTEXT_KEY] = context_out(ctx)
    return Answer(ai, update, structured_args=new_args, held=held)


def model_call_flow(shield: Shield, request: ModelRequest, *, guard_input: bool,
                    guard_output: bool) -> Flow[ModelResponse | ExtendedModelResponse]:
    """Around one model call: new human input first (a block answers without calling the model),
    then the answer and its tool calls. Runs inside the model node, so it adds no graph step."""
    state = request.state
    # documents a guarded retriever returned to a hook before this call; left pending until the model answered, so
    # that a retry of this call (ModelRetryMiddleware listed first) still cuts them and still counts them read
    reads = take_reads(keep=True)
    ctx = with_reads(_context(state, _thread_id()), reads)
    update: dict[str, Any] = {}
    if reads is not None:
        update[CONTEXT_KEY] = context_out(ctx)
    if guard_input:
        got: dict[str, Any] | None = yield from input_flow(shield, state, ctx, read=reads.texts if reads else ())
        if got is not None:
            ctx = RunContext.coerce(got[CONTEXT_KEY])
            if got.get("jump_to"):
                *withheld, answer = got["messages"]
                # what the guard withheld (the refused input too) replaces what it read, by id, in state
                rest = {**{k: v for k, v in got.items() if k != "jump_to"}, "messages": withheld}
                take_reads()  # in the refusal's context: not for a later call
                return ExtendedModelResponse(ModelResponse(result=[answer]), Command(update=rest))
            update.update(got)
            swapped = {m.id: m for m in got.get("messages", [])}
            if swapped:
                request = request.override(messages=[swapped.get(m.id, m) for m in request.messages])
    response = yield Run(request)
    if isinstance(response, ExtendedModelResponse):  # pragma: no cover - only inner middleware returns these
        return response
    # with what a middleware listed after this one read for this very answer: its calls see it
    late = take_reads()
    if late is not None:
        ctx = with_reads(ctx, late)
        update[CONTEXT_KEY] = context_out(ctx)
    model_response = _with_ids(response if isinstance(response, ModelResponse) else ModelResponse(result=[response]))
    if guard_output:
        for i in range(len(model_response.result) - 1, -1, -1):
            ai = model_response.result[i]
            if isinstance(ai, AIMessage) and not is_ours(ai):
                answered = answered_calls(model_response.result[i + 1:])
                answer = yield from output_flow(shield, ai, ctx, answered, request.system_prompt)
                # a withdrawn structured response is None; create_agent then clears an earlier turn's too
                model_response = _answered(model_response, i, answer)
                update.update(answer.update)
                break
    # this agent's own messages: never read again as another agent's (see ``_foreign``)
    update[CHECKED_KEY] = [*update.get(CHECKED_KEY, ()), *(m.id for m in model_response.result)]
    return ExtendedModelResponse(model_response, Command(update=update))


def _with_ids(response: ModelResponse) -> ModelResponse:
    """The model's response with an id on each message, so that the agent can mark them as its own (the held
    copy of an answer waiting for a reviewer keeps it too)."""
    if all(m.id for m in response.result):
        return response
    return ModelResponse(result=[m if m.id else m.model_copy(update={"id": f"airs-msg-{uuid.uuid4().hex}"})
                                 for m in response.result], structured_response=response.structured_response)


def _answered(response: ModelResponse, i: int, answer: Answer) -> ModelResponse:
    """The model's response with the guarded message at ``i``.

    A redaction reaches the structured response (rebuilt from the redacted fields); when it cannot, the
    answer is withheld. A withdrawn answer takes the structured response and the model node's answers
    to its calls with it (they would be unpaired)."""
    result = list(response.result)
    result[i] = answer.message
    original = response.result[i]
    structured = response.structured_response
    if not answer.withdrawn and structured is not None:
        ok = True
        if answer.structured_args:
            ok, structured = reparsed(structured, next(iter(answer.structured_args.values())))
            result = rewritten_answers(result, answer.structured_args, structured)
        elif answer.message.content != original.content:
            # ProviderStrategy: the structured response was parsed from the text the guard just redacted
            fields = provider_args(answer.message)
            ok, structured = reparsed(structured, fields) if fields is not None else (False, None)
        if not ok:  # the redacted values do not fit the schema: withhold rather than return the original
            answer = Answer(refusal(OUTPUT_REFUSAL, replace=answer.message), answer.update, withdrawn=True)
            result[i] = answer.message
    mine = {c.get("id") for c in original.tool_calls} if isinstance(original, AIMessage) else set()
    answers = [m for m in result if isinstance(m, ToolMessage) and m.tool_call_id in mine]
    rest = [m for m in result if not (isinstance(m, ToolMessage) and m.tool_call_id in mine)]
    if answer.withdrawn:
        return ModelResponse(result=rest, structured_response=None)
    if answer.held:
        # the answer (with a structured answer's call, its answer and the structured response) waits in
        # ``airs_output``; ``messages`` gets a placeholder, so nothing unapproved is shown or streamed
        record = answer.update[OUTPUT_KEY]
        placeholder = hold(record, record["request"]["id"], [answer.message, *answers])
        record["structured_response"] = structured
        return ModelResponse(result=[placeholder if m is answer.message else m for m in rest],
                             structured_response=None)
    return ModelResponse(result=result, structured_response=structured)


def final_answer_review(shield: Shield, state: Any) -> Flow[dict[str, Any] | None]:
    """Ask a human about a final answer the output guard held for approval (reads state only). A flow step, so
    the async hook awaits the resolution (approved under a policy changed since, the answer is re-checked)."""
    pending = state_get(state, OUTPUT_KEY)
    if not isinstance(pending, Mapping) or not pending.get("request"):
        return None
    messages = list(state_get(state, "messages") or ())
    wanted = pending.get("message_id")
    # a model that sets no message id: the held answer is the last AI message
    target = next((m for m in reversed(messages) if isinstance(m, AIMessage) and (wanted is None or m.id == wanted)),
                  None)
    if target is None:
        return {OUTPUT_KEY: None}
    request = ApprovalRequest.model_validate(pending["request"])
    answer = ask(pending["request"])
    held = pending.get("held")
    kept = held if isinstance(held, list) else None
    final: Decision | None = None
    if answer is not NOT_ASKED:
        final = yield Ask("resolve_approval", (request, answer), {
            "context": _context(state, _thread_id()), "held": held_answer_text(kept) if kept else None})
    said = (final.reply if final is not None else None) or OUTPUT_REFUSAL
    if kept is not None and target.id:
        let_out = released_answer(kept, final)
        released = release_held(target.id, let_out, said)
        update: dict[str, Any] = {OUTPUT_KEY: None, "messages": released,
                                  CHECKED_KEY: [m.id for m in released[1:] if m.id]}
        if let_out is not None and pending.get("structured_response") is not None:
            update[STRUCTURED_KEY] = pending["structured_response"]
        return update
    if final is not None and final.allowed:
        return {OUTPUT_KEY: None}
    # a record kept by an earlier version, whose answer stayed in ``messages`` while it waited
    answer = refusal(said, replace=target)
    return {OUTPUT_KEY: None, "messages": [answer], CHECKED_KEY: [answer.id]}


def unseen_answer(shield: Shield, state: Any) -> Flow[dict[str, Any] | None]:
    """Guard the run's last answer when this agent's output guard never saw it: a middleware listed before AIRS
    wrote it (``ModelRetryMiddleware``'s ``on_failure="continue"`` turns the model's exception, whatever its text
    holds, into the answer; a hook that ends the run with an answer of its own). Every message the model hook
    returns is marked checked, so an unmarked answer is one it never read."""
    messages = state_get(state, "messages") or ()
    last = messages[-1] if messages else None
    if not isinstance(last, AIMessage) or last.tool_calls or is_ours(last) or not last.id \
            or last.id in (state_get(state, CHECKED_KEY) or ()):
        return None
    text = message_text(last)
    if not text.strip():
        return None
    d: Decision = yield Ask("check_output", (text,), {"context": _context(state, _thread_id())})
    update: dict[str, Any] = {CONTEXT_KEY: context_out(d.context), CHECKED_KEY: [last.id]}
    passed = d.released(text)
    if passed is None:  # blocked, or needing a reviewer nobody can be asked for after the run: withheld
        update["messages"] = [refusal(OUTPUT_REFUSAL, replace=last)]
    elif passed != text:
        update["messages"] = [last.model_copy(update={"content": passed})]
    return update


def after_agent_flow(shield: Shield, state: Any, *, guard_output: bool) -> Flow[dict[str, Any] | None]:
    """At the end of a run: the review of an answer held for a human, else the guard of an answer the output guard
    never saw (see :func:`unseen_answer`)."""
    reviewed = yield from final_answer_review(shield, state)
    if reviewed is not None or not guard_output:
        return reviewed
    return (yield from unseen_answer(shield, state))


class AIRSMiddleware(AgentMiddleware[AIRSAgentState, Any]):
    """Runtime security for ``create_agent(..., middleware=[AIRSMiddleware(shield)])``.

    * ``wrap_model_call``: first the input guard on every human message not checked yet (the new
      input of this invoke, or one added mid-run): block ⇒ the model is not called and the refusal is
      the answer, which ends the run; redact ⇒ the message is rewritten in state and in the request;
      require_approval ⇒ ``interrupt()``. Then the output guard (block ⇒ the answer,
      and its tool calls, are replaced by a refusal, which ends the run; redact ⇒ rewritten; a
      final answer needing approval is held for ``after_agent``) and one decision per tool call,
      kept in state as ``airs_decisions`` before any tool runs. A structured answer
      (``response_format``) is part of the answer, not a tool call (see ``_structured``). This runs
      inside the model node rather than as ``before_agent``/``before_model``/``after_model`` nodes:
      each node hook is one more graph step (about 2 ms here), which alone broke the 5 % overhead budget.
    * ``wrap_tool_call``: enforces the recorded decision where the tool runs (block ⇒ error
      ToolMessage, redact/edit ⇒ ``request.override``, require_approval ⇒ ``interrupt()`` with the
      ``ApprovalRequest`` JSON; resume with ``Command(resume=ApprovalDecision JSON)`` or LangChain's
      ``{"decisions": [...]}``), runs it at most once via the execution ledger, then guards the
      result (redaction, withholding, taint).
    * ``after_agent``: the human review of a held final answer.

    The run's ``RunContext`` lives in state as ``airs_context``, so taint and caps survive a resume
    after a restart when the agent has a checkpointer. Ungated tool calls of the same turn run
    without waiting for the human's answer on the gated ones.

    Order: list it after any middleware that changes tool calls (``HumanInTheLoopMiddleware``'s edit), so
    that AIRS decides the call that runs; a middleware listed after it runs inside its enforcement, and the
    tool it hands on runs only the decided call (see ``_pinned``). Likewise after one that sets the system
    prompt (``dynamic_prompt``): AIRS checks outputs for a recital of the prompt it sees on the request.
    """

    state_schema = AIRSAgentState

    def __init__(self, shield: Shield, judge: Any = None, *, guard_input: bool = True,
                 guard_output: bool = True, stream_before_guard: bool = False) -> None:
        super().__init__()
        if judge is not None:
            shield.attach_judge(judge)
        self.shield = shield
        self.guard_input = guard_input
        self.guard_output = guard_output
        self.stream_before_guard = stream_before_guard

    def _held(self) -> bool:
        return self.guard_output and not self.stream_before_guard

    # -- each model call: new input, the answer, and one decision per tool call ----------------
    def wrap_model_call(self, request: ModelRequest,
                        handler: Callable[[ModelRequest], ModelResponse]) -> ModelCallResult:
        if is_suppressed():
            return handler(request)
        flow = model_call_flow(self.shield, request, guard_input=self.guard_input, guard_output=self.guard_output)
        hold = self._held()

        def model(req: ModelRequest) -> ModelResponse:
            with guarded(), (unstreamed() if hold else nullcontext()):
                return handler(req)

        return drive(flow, self.shield, model)

    async def awrap_model_call(self, request: ModelRequest,
                               handler: Callable[[ModelRequest], Awaitable[ModelResponse]]) -> ModelCallResult:
        if is_suppressed():
            return await handler(request)
        flow = model_call_flow(self.shield, request, guard_input=self.guard_input, guard_output=self.guard_output)
        hold = self._held()

        async def model(req: ModelRequest) -> ModelResponse:
            with guarded(), (unstreamed() if hold else nullcontext()):
                return await handler(req)

        return await adrive(flow, self.shield, model)

    def after_agent(self, state: AIRSAgentState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        return None if is_suppressed() else drive(
            after_agent_flow(self.shield, state, guard_output=self.guard_output), self.shield)

    async def aafter_agent(self, state: AIRSAgentState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        return None if is_suppressed() else await adrive(
            after_agent_flow(self.shield, state, guard_output=self.guard_output), self.shield)

    # -- tool execution ------------------------------------------------------------------------
    def _flow(self, request: ToolCallRequest) -> Flow[ToolOutcome]:
        config = getattr(request.runtime, "config", None) or current_config()
        thread_id = thread_id_of(config)
        # only the records made for the message that carries this call: under a reused id, a record may be an
        # earlier call's (an approval, whatever the options: with the output guard off, nothing overwrites it)
        messages = list(state_get(request.state, "messages") or ())
        at = carrier(messages, str(request.tool_call.get("id") or ""))
        return tool_call_flow(self.shield, request.tool_call, thread_id=thread_id,
                              context=context_in(request.state, thread_id, agent_of(config)),
                              records=message_records(state_get(request.state, DECISIONS_KEY), messages, at),
                              final_answer=bool(getattr(request.tool, "return_direct", False)),
                              message_id=messages[at].id if at >= 0 else None)

    # ToolOutput: a list too, which LangChain's type leaves out but ToolNode applies (see ``ToolOutcome.as_update``)
    def wrap_tool_call(self, request: ToolCallRequest,  # type: ignore[override]
                       handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]]) -> ToolOutput:
        if is_suppressed():
            return handler(request)

        stream = ToolStream()

        def run(call: dict[str, Any]) -> Any:
            with pinned_turn(call, stream) as pin:
                return pin.settled(handler(pin.request(request, call)))

        return with_checked(reported(self._flow(request), self.shield, run, stream))

    async def awrap_tool_call(  # type: ignore[override]
        self, request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolOutput:
        if is_suppressed():
            return await handler(request)

        stream = ToolStream()

        async def run(call: dict[str, Any]) -> Any:
            with pinned_turn(call, stream) as pin:
                return pin.settled(await handler(pin.request(request, call)))

        return with_checked(await areported(self._flow(request), self.shield, run, stream))


__all__ = ["AIRSAgentState", "AIRSMiddleware"]
