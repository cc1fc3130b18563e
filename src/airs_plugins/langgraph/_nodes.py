"""Nodes for hand-built graphs: decide (guard), ask (approval), grade (judge). No node both scans and
pauses: LangGraph re-runs a node from the top on resume, so the scans happen in nodes that never
``interrupt()``, and the approval node only reads state before it pauses."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, NotRequired

from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage, ToolMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.graph import MessagesState

from .._decision import Action, ApprovalRequest, Decision
from .._shield import Shield
from ..langchain._enforce import (
    INTERIM_BLOCKED,
    INTERIM_WITHHELD,
    NOT_ASKED,
    ask,
    held_answer_text,
    hold,
    refusal,
    release_held,
    released_answer,
    resolved_once,
)
from ..langchain._flow import Ask, Flow, adrive, drive
from ..langchain._middleware import input_flow
from ..langchain._retriever import take_reads, with_reads
from ..langchain._translate import (
    CONTEXT_KEY,
    DECISIONS_KEY,
    MESSAGE_ID,
    REFUSAL_MARK,
    context_in,
    context_out,
    decision_record,
    is_ours,
    last_turn,
    merge_context,
    merge_decisions,
    merge_ids,
    message_records,
    message_text,
    record_for,
    server_results,
    state_get,
    system_text,
    thread_id_of,
    tool_call_parts,
)

JUDGE_KEY = "airs_judge"
GUARD_NAME = "airs_guard"
INPUT_NAME = "airs_input"
OUTPUT_REFUSAL = "The answer was withheld after review."


def _replace(left: Any, right: Any) -> Any:
    return right


class AIRSGraphState(MessagesState):
    """``MessagesState`` plus the AIRS keys. Use it (or add these keys) as your graph's state."""

    airs_context: NotRequired[Annotated[dict[str, Any] | None, merge_context]]
    airs_decisions: NotRequired[Annotated[dict[str, Any], merge_decisions]]
    airs_judge: NotRequired[Annotated[dict[str, Any] | None, _replace]]
    airs_checked: NotRequired[Annotated[list[str], merge_ids]]


def _node(name: str, flow: Callable[[Any, RunnableConfig], Flow[Any]], shield: Shield) -> RunnableLambda[Any, Any]:
    """A node whose sync and async paths share ``flow`` (the async one awaits ``acheck_*``)."""

    def sync(state: Any, config: RunnableConfig) -> Any:
        return drive(flow(state, config), shield)

    async def asynchronous(state: Any, config: RunnableConfig) -> Any:
        return await adrive(flow(state, config), shield)

    return RunnableLambda(sync, afunc=asynchronous, name=name)


def _last_ai(state: Any) -> AIMessage | None:
    messages = list(state_get(state, "messages") or ())
    return messages[-1] if messages and isinstance(messages[-1], AIMessage) else None


def turn_records(state: Any, messages_key: str = "messages") -> dict[str, Any]:
    """The records in ``airs_decisions`` that decided the calls of the last AIMessage, by call id (see
    :func:`~airs_plugins.langchain._translate.message_records`: a reused id is a new call)."""
    messages = list(state_get(state, messages_key) or ())
    return message_records(state_get(state, DECISIONS_KEY), messages, last_turn(messages))


def _pending_calls(state: Any) -> tuple[AIMessage | None, list[dict[str, Any]]]:
    """The last AIMessage and its tool calls that have no ToolMessage yet."""
    messages = list(state_get(state, "messages") or ())
    at = last_turn(messages)
    if at < 0:
        return None, []
    answered = {m.tool_call_id for m in messages[at + 1:] if isinstance(m, ToolMessage)}
    return messages[at], [dict(c) for c in messages[at].tool_calls if c.get("id") not in answered]


# -- guard: decide every tool call, no side effects on the agent ---------------------------------
SENT_CALLS = ("guard_node was given tool calls by Send (as create_agent routes them to a ToolNode), not the graph's "
              "state: it decides the calls of the last AIMessage in the state, and the nodes after it run them all. "
              "Route to it with an edge or a conditional edge returning its name (tools_condition); to send the "
              "calls one by one, send them to SecureToolNode, after guard_node and approval_node.")


def _sent_calls(state: Any) -> bool:
    """Whether a node got the tool calls a ``Send`` carries (the shapes ``ToolNode`` takes) instead of the state."""
    if isinstance(state, Mapping):
        return state.get("__type") == "tool_call_with_context"
    return isinstance(state, list) and bool(state) and isinstance(state[-1], Mapping) \
        and state[-1].get("type") == "tool_call"


def guard_flow(shield: Shield, state: Any, config: RunnableConfig) -> Flow[dict[str, Any] | None]:
    if _sent_calls(state):
        # read as a state it holds no calls: nothing would be decided, and SecureToolNode would refuse every call
        raise TypeError(SENT_CALLS)
    message, pending = _pending_calls(state)
    made_for = message.id if message is not None else None
    # only a record this guard made for this very message spares a call: one without the message (an earlier
    # version's shape) may have been written by anything that writes state, and SecureToolNode would run on it
    records = {k: r for k, r in turn_records(state).items() if r.get(MESSAGE_ID) == made_for}
    # documents a guarded retriever returned to the model node (same thread): read before these calls were made
    reads = take_reads()
    ctx = with_reads(context_in(state, thread_id_of(config)), reads)
    decided: dict[str, Any] = {}
    undecided = [(name, args, call_id) for name, args, call_id in map(tool_call_parts, pending)
                 if record_for(records, call_id, name, args) is None]
    last = _last_ai(state)
    system = system_text(state_get(state, "messages") or ()) if undecided else None
    update: dict[str, Any] = {}
    said: Decision | None = None
    if undecided and last is not None and not is_ours(last):
        text = message_text(last)
        if text.strip():
            # what the model wrote next to its calls (not the answer: ``interim``) reached state with them; the
            # user reads it only as the guard lets it pass
            said = yield Ask("check_output", (text,), {"context": ctx, "interim": True, "instructions": system})
            ctx = said.context
            shown = said.released(text)
            if shown is None:
                shown = INTERIM_BLOCKED if said.blocked else INTERIM_WITHHELD
            if shown != text:
                update["messages"] = [last.model_copy(update={"content": shown})]
        for server_tool, read in server_results(last):
            # what a provider-side tool fetched for the model: recorded (taint) before its calls are decided
            rd: Decision = yield Ask("check_tool_result", (server_tool, read), {"context": ctx})
            ctx = rd.context
    for name, args, call_id in undecided:
        d: Decision = yield Ask("check_tool_call", (name, args),
                                {"context": ctx, "tool_call_id": call_id, "instructions": system})
        ctx = d.context
        request = shield.approval_request(d, tool_args=args) if d.needs_approval else None
        decided[call_id] = {**decision_record(d, args, request=request), MESSAGE_ID: made_for}
        if said is not None and said.blocked:  # a model that says what is blocked is not trusted with its calls
            decided[call_id] = {**decided[call_id], "action": Action.BLOCK.value, "request": None,
                                "reason": f"the model's text with this call was blocked: {said.reason}"}
    if not decided:
        return {CONTEXT_KEY: context_out(ctx)} if reads is not None else None
    return {**update, DECISIONS_KEY: decided, CONTEXT_KEY: context_out(ctx)}


def guard_node(shield: Shield) -> RunnableLambda[Any, Any]:
    """A node that decides each pending tool call of the last AIMessage and records the decision in
    ``airs_decisions`` (keyed by tool call id, bound to the arguments). It never pauses and never
    runs a tool; :class:`SecureToolNode` enforces what it wrote. The text the model wrote next to the
    calls passes the output guard first: withheld or redacted in ``messages`` as the guard says, and
    when it is blocked, so are the calls."""
    return _node(GUARD_NAME, lambda state, config: guard_flow(shield, state, config), shield)


# -- input: the user's new messages, before the model reads them -------------------------------
def input_guard_flow(shield: Shield, state: Any, config: RunnableConfig) -> Flow[dict[str, Any] | None]:
    got = yield from input_flow(shield, state, context_in(state, thread_id_of(config)), foreign=False)
    if got is not None:
        got.pop("jump_to", None)  # the refusal is the last message: input_route ends the run on it
    return got


def input_guard_node(shield: Shield) -> RunnableLambda[Any, Any]:
    """A node for the start of a hand-built graph (``START → input guard → model``) that decides each human
    message the graph has not read yet, as ``AIRSMiddleware`` does before its model call: a redaction rewrites
    it in state; one that needs a human pauses (``interrupt()`` with the ``ApprovalRequest``) and is decided
    once, whatever re-runs the node; a block, or a reviewer's no, answers with a refusal, the refused input
    withheld in state so that no later turn's model reads it. An earlier input rewritten by reusing its message
    id is read again. Route from it with :func:`input_route` (a refusal ends the run), never a plain edge. Needs
    the ``airs_checked`` key of :class:`AIRSGraphState`."""
    return _node(INPUT_NAME, lambda state, config: input_guard_flow(shield, state, config), shield)


def input_route(state: Any) -> Literal["continue", "end"]:
    """After :func:`input_guard_node`: ``"end"`` when it answered with a refusal, else ``"continue"`` (to the
    model). ``builder.add_conditional_edges("airs_input", input_route, {"continue": "model", "end": END})``"""
    messages = state_get(state, "messages") or ()
    last = messages[-1] if messages else None
    return "end" if isinstance(last, AIMessage) and is_ours(last) else "continue"


# -- approval: pause for the calls (and the held answer) that need a human ---------------------
def approval_flow(shield: Shield, state: Any, config: RunnableConfig) -> Flow[dict[str, Any] | None]:
    thread_id = thread_id_of(config)
    records = turn_records(state)
    resolved: dict[str, Any] = {}
    ctx = context_in(state, thread_id)  # what the run has read: an edit is re-checked against it
    for call in _pending_calls(state)[1]:
        name, args, call_id = tool_call_parts(call)
        rec = record_for(records, call_id, name, args)
        if rec is None or rec.get("action") != Action.REQUIRE_APPROVAL.value or not rec.get("request") \
                or not rec.get("enforced", True):
            continue
        answer = ask(rec["request"])
        if answer is NOT_ASKED:
            resolved[call_id] = {**rec, "action": "block", "reason": "no human could be asked (fail closed)"}
            continue
        # resolved as soon as it is read (its deadline judged then), and kept: this node re-runs from the top at
        # every later answer, and a call approved in time must not expire while another call's reviewer answers
        final = yield from resolved_once(shield.ledger, thread_id, ApprovalRequest.model_validate(rec["request"]),
                                         answer, tool_args=args, context=ctx)
        resolved[call_id] = {**decision_record(final, args, request=None), MESSAGE_ID: rec.get(MESSAGE_ID)}
    update: dict[str, Any] = {DECISIONS_KEY: resolved} if resolved else {}
    held = state_get(state, JUDGE_KEY)
    if isinstance(held, Mapping) and held.get("action") == Action.REQUIRE_APPROVAL.value \
            and held.get("request") is not None:
        answer = ask(held["request"])
        kept = held.get("held")
        # with the answer it releases: approved under a policy changed since, it is re-checked under it
        final_output = None if answer is NOT_ASKED else (yield from resolved_once(
            shield.ledger, thread_id, ApprovalRequest.model_validate(held["request"]), answer, context=ctx,
            held=held_answer_text(kept) if isinstance(kept, list) and kept else None))
        update.update(_resolve_output(state, held, final_output))
    return update or None


def _resolve_output(state: Any, held: Mapping[str, Any], final: Decision | None) -> dict[str, Any]:
    """The held answer released (or refused) as the reviewer's ``final`` decision says (None: nobody asked)."""
    messages = list(state_get(state, "messages") or ())
    target = next((m for m in reversed(messages) if isinstance(m, AIMessage) and m.id == held.get("message_id")),
                  None)
    out: dict[str, Any] = {JUDGE_KEY: {**held, "action": final.action.value if final else "block",
                                       "request": None, "route": "end"}}
    allowed = final is not None and final.allowed
    said = final.reply if final is not None else None
    kept = held.get("held")
    if target is not None and target.id and isinstance(kept, list):
        out["messages"] = release_held(target.id, released_answer(kept, final), said or OUTPUT_REFUSAL)
        return out
    if allowed or target is None:
        return out
    out["messages"] = [refusal(said or OUTPUT_REFUSAL, replace=target)]
    return out


def approval_node(shield: Shield) -> RunnableLambda[Any, Any]:
    """A node that calls ``interrupt()`` once per pending tool call whose decision is
    ``require_approval`` (value: the ``ApprovalRequest`` JSON; resume with ``Command(resume=...)``
    carrying an ``ApprovalDecision`` JSON or LangChain's ``{"decisions": [...]}``), plus once for a
    final answer the judge node held for review, and writes the resolved decisions. It only reads
    state before pausing, so its re-run on resume is harmless: each answer is resolved when it is read
    (its deadline judged then) and kept in the Shield's ledger, which the re-runs for the later answers
    read (``Shield(ledger=path)`` keeps it across a restart)."""
    return _node("airs_approval", lambda state, config: approval_flow(shield, state, config), shield)


# -- judge: grade the answer, route to retry / human / end -------------------------------------
def judge_flow(shield: Shield, state: Any, config: RunnableConfig, max_retries: int) -> Flow[dict[str, Any] | None]:
    last = _last_ai(state)
    if last is None or is_ours(last) or last.tool_calls:
        return {JUDGE_KEY: {"action": "allow", "route": "end"}}
    ctx = context_in(state, thread_id_of(config))
    text = message_text(last)
    messages = state_get(state, "messages") or ()
    system = system_text(messages)
    d: Decision = yield Ask("check_output", (text,), {"context": ctx, "instructions": system})
    previous = state_get(state, JUDGE_KEY) or {}
    question = _question(messages)
    # the retries are the question's: a later question in the thread gets its own
    retries = int(previous.get("retries", 0)) \
        if isinstance(previous, Mapping) and previous.get("question") == question else 0
    rec: dict[str, Any] = {"action": d.action.value if d.enforced else "allow", "reason": d.reason,
                           "correlation_id": d.correlation_id, "message_id": last.id, "retries": retries,
                           "question": question, "request": None}
    update: dict[str, Any] = {CONTEXT_KEY: context_out(d.context)}
    if not d.enforced or d.action is Action.ALLOW:
        rec["route"] = "end"
    elif d.action is Action.REDACT:
        rec["route"] = "end"
        update["messages"] = [last.model_copy(update={"content": d.redacted or ""})]
    elif d.action is Action.REQUIRE_APPROVAL:
        rec["route"] = "human"
        request = shield.approval_request(d, payload_preview=text)
        rec["request"] = request.model_dump(mode="json")
        if last.id:
            # the answer waits in the judge's record, not in ``messages``, until the reviewer releases it
            held = last if d.rewritten is None else last.model_copy(update={"content": d.rewritten})
            update["messages"] = [RemoveMessage(id=last.id), hold(rec, request.id, [held])]
    else:
        # counted in the run context, where the policy's ``caps.retries`` holds over every retry of the request
        counted, capped = shield.count_retry(d.context) if retries < max_retries else (d.context, "")
        if capped is None:
            rec["route"] = "retry"
            rec["retries"] = retries + 1
            update[CONTEXT_KEY] = context_out(counted)
            update["messages"] = [RemoveMessage(id=last.id or ""), HumanMessage(
                f"Your previous answer failed review ({d.reason or 'blocked'}). Answer again without it.",
                additional_kwargs={REFUSAL_MARK: True})]  # ours: the same question, asked again
        else:
            rec["route"] = "end"
            if capped:
                rec["reason"] = f"{d.reason}; not asked again: {capped}"
            update["messages"] = [refusal(OUTPUT_REFUSAL, replace=last)]
    update[JUDGE_KEY] = rec
    return update


def _question(messages: Sequence[Any]) -> str | None:
    """The id of the user's message that the answer replies to (the judge's own request to answer again is not
    one)."""
    return next((m.id for m in reversed(messages) if isinstance(m, HumanMessage) and not is_ours(m)), None)


def judge_node(shield: Shield, *, max_retries: int = 1) -> RunnableLambda[Any, Any]:
    """A node after generation: the output guard and the judge (``Shield.check_output`` /
    ``acheck_output``) grade the last answer. Allow ⇒ end; redact ⇒ rewritten, end; block ⇒ the
    answer is removed and the model asked again (up to ``max_retries`` times for each question of the
    user, and no more than the policy's ``caps.retries`` allows: each retry is counted in the run context),
    then replaced by a refusal; require_approval ⇒ held for :func:`approval_node`. Route with
    :func:`judge_route`."""
    return _node("airs_judge", lambda state, config: judge_flow(shield, state, config, max_retries), shield)


def judge_route(state: Any) -> Literal["retry", "human", "end"]:
    """Conditional-edge helper after :func:`judge_node`: ``"retry"``, ``"human"`` or ``"end"``."""
    rec = state_get(state, JUDGE_KEY)
    route = rec.get("route") if isinstance(rec, Mapping) else None
    return route if route in ("retry", "human") else "end"
