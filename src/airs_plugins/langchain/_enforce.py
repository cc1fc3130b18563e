"""Decision → what the framework must see: a ToolMessage, an ``interrupt()``, a replaced message.

:func:`tool_call_flow` is the one enforcement path for a tool call, shared by ``AIRSMiddleware``,
``guard_tools`` and ``airs_plugins.langgraph.SecureToolNode``:

1. take the decision recorded in state for this call id *and these arguments*. Without one: a call
   that already ran in this LangGraph task is replayed from the ledger; a call that paused for a human
   takes the decision it paused with (kept in the ledger before the ``interrupt()``, because LangGraph
   re-runs the tool from its start on resume); otherwise decide now (or fail closed, for
   ``SecureToolNode``). So each call is decided once, and the answer resolves the request the
   reviewer saw;
2. ``require_approval`` ⇒ ``interrupt(ApprovalRequest JSON)`` ⇒ ``Shield.resolve_approval``, once: the
   resolved decision is kept, and a later re-run of the task takes it instead of reading the answer again;
3. block / reject ⇒ error ToolMessage, respond ⇒ the reviewer's message; neither runs the tool;
4. claim the call in the execution ledger; a finished entry is replayed, a ``running`` one (a
   crash mid-call) is reported as unknown and never re-run, one whose tool raised runs again (a retry);
5. run with the original, redacted or edited arguments, guard the result (redact, withhold, taint),
   complete the ledger entry, audit, and return exactly one ToolMessage. A tool that raised: the
   exception's text is guarded as its result; with nothing in it to guard it is raised again, unchanged
   (a retry middleware outside retries it), else the guarded text is the answer (an error ToolMessage,
   with the run's taint), so that no raw error text leaves for the model through code outside AIRS.

Only a LangGraph task is ever re-run (on a resume), so only there is a call replayed or a decision kept;
anywhere else every call is new, whatever its id.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    RemoveMessage,
    ToolMessage,
    message_to_dict,
    messages_from_dict,
)
from langgraph.errors import GraphBubbleUp
from langgraph.types import Command

from .._canonical import call_digest, canonical_args
from .._decision import Action, ApprovalRequest, Decision, RunContext
from .._error_text import error_text, read_whole
from .._joined import joined, split_joined
from .._ledger import DECIDED, INTERRUPTED, REVIEW, ExecutionLedger, LedgerEntry, MemoryLedger
from .._shield import Shield
from ._added import (
    DROPPED,
    Returned,
    added_messages,
    added_text,
    answers,
    placed,
    readable,
    returned_messages,
    state_writes,
    tool_list,
    update_messages,
    with_added,
    with_messages,
    with_state_writes,
    without_key,
)
from ._flow import Ask, Flow, Run, adrive, drive
from ._kept import KEPT_KEY, lost, needs_keeping, restored, to_keep
from ._pinned import CallChangedError, Pin
from ._structured import output_payload
from ._toolstream import ToolStream
from ._translate import (
    CHECKED_KEY,
    CONTEXT_KEY,
    DECISIONS_KEY,
    MESSAGE_ID,
    REFUSAL_MARK,
    block_texts,
    context_out,
    current_config,
    decision_record,
    merge_context,
    message_text,
    record_action,
    record_for,
    tool_call_parts,
    with_block_texts,
)

try:
    from langgraph.errors import is_invalid_resume
except ImportError:  # a LangGraph without ``interrupt(response_schema=...)``: no resume can be invalid
    def is_invalid_resume(error: BaseException) -> bool:
        return False

FAILED = "failed"
"""Ledger status of a call whose tool raised: it did not complete, so a later attempt runs it again (a retry
middleware listed before ``AIRSMiddleware``, or the host re-running the step), as it would without AIRS.
Only a completed call is replayed; one whose outcome is unknown (a crash mid-call) is never re-run."""
RERUNNABLE = frozenset({INTERRUPTED, FAILED})
PENDING_DECISION = "airs-decision:"
"""Ledger key prefix: the decision a paused call is waiting on, with the run's context at that moment."""
PENDING_INPUT = "airs-input:"
"""Ledger key prefix (plus the message id): the approval request a paused user input is waiting on."""
REVIEW_KEY = REVIEW
"""Ledger extra of a finished call: the approval request its result waits on before anyone reads it."""
RESOLVED = "airs-resolved:"
"""Ledger key prefix (plus the request id): the decision a reviewer's answer resolved to."""
OUTPUT_REFUSAL = "The answer was withheld by the AIRS output guardrail."
INTERIM_BLOCKED = "AIRS blocked this message: the output guardrail withheld its text, and its tool calls were not run."
INTERIM_WITHHELD = ("AIRS withheld the text of this message: it needed a reviewer's approval, and the run went on "
                    "with the message's tool calls, which were decided on their own.")

_Mark: TypeAlias = tuple[str, str, dict[str, Any] | None]
_ENFORCING: contextvars.ContextVar[tuple[_Mark, ...]] = contextvars.ContextVar("airs_enforcing", default=())
"""The calls enforced by an outer layer: (call id or run id, tool name, arguments; None for a run id, which names
one run whatever its arguments). The arguments are compared only when a nested layer meets a mark of its own call
id and tool (rare), so marking a call, which every tool call does, costs no serialisation."""


@contextmanager
def enforcing(call_id: str, name: str, args: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Mark a call (id, tool and the arguments it runs with) as enforced by an outer layer, so a guarded tool
    inside does not decide again (nor does a callback handler on the same run). Only that call: what the tool
    runs inside is not covered, and a sub-agent's call that reuses the id (llama.cpp's constant id, per-round
    numbering) is decided like any other, even of a tool of the same name, unless it is this very call.
    ``args`` None: ``call_id`` is a run id, which no other run has."""
    token = _ENFORCING.set((*_ENFORCING.get(), (call_id, name, dict(args) if args is not None else None)))
    try:
        yield
    finally:
        _ENFORCING.reset(token)


@contextmanager
def pinned_turn(call: dict[str, Any], stream: ToolStream | None = None) -> Iterator[Pin]:
    """The decided call's run, enforced as ours, on tools pinned to it (see ``_pinned``): what runs inside
    (a middleware listed after ``AIRSMiddleware``, a ``ToolNode``'s own ``wrap_tool_call``) can run only
    this call, and does so without ``stream``'s handlers (see ``_toolstream``)."""
    pin = Pin.of(call, stream)
    with enforcing(pin.call_id, pin.name, pin.args):
        try:
            yield pin
        except Exception:
            pin.settled(None)  # a changed call's refusal, whatever the code inside made of it
            raise


def reported(flow: Flow[ToolOutcome], shield: Shield, run: Callable[[dict[str, Any]], Any],
             stream: ToolStream) -> ToolOutcome:
    """``flow`` driven to its outcome, which ``stream`` (the ``tools`` stream mode) is then told, or the
    exception that left it."""
    with stream.reporting():
        outcome = drive(flow, shield, run)
    outcome.report(stream)
    return outcome


async def areported(flow: Flow[ToolOutcome], shield: Shield, run: Callable[[dict[str, Any]], Awaitable[Any]],
                    stream: ToolStream) -> ToolOutcome:
    """The async twin of :func:`reported`."""
    with stream.reporting():
        outcome = await adrive(flow, shield, run)
    outcome.report(stream)
    return outcome


def already_enforced(call_id: str, name: str, args: Mapping[str, Any] | None) -> bool:
    """Whether an outer layer enforces this run (by its run id) or this call: its id, tool and the arguments the
    model chose (``args``; the injected ones left out)."""
    if not call_id:
        return False
    for marked_id, marked_name, marked_args in _ENFORCING.get():
        if marked_id != call_id or marked_name != name:
            continue
        if marked_args is None or (args is not None
                                   and canonical_args(dict(args)) == canonical_args(marked_args)):
            return True
    return False


ToolOutput: TypeAlias = "ToolMessage | Command[Any] | list[ToolMessage | Command[Any]]"
"""What a tool call's step returns to ``ToolNode``: a list too, as from a tool (``ToolNode`` applies it item by
item), though LangChain's wrapper types name only the first two."""


@dataclass(frozen=True)
class ToolOutcome:
    """The single answer for one tool call."""

    message: ToolMessage
    context: dict[str, Any] | None
    record: dict[str, Any] | None
    executed: bool
    command: Returned | None = None
    """Set when the tool itself returned a Command, or a list of ToolMessages and Commands; its ToolMessage was
    replaced by ``message``."""
    untouched: bool = False
    """The tool ran and the guard let what it said through as it was (nothing redacted, withheld or held for a
    reviewer): an event stream may then see what ran inside the tool (see ``_toolstream``)."""

    def tool_output(self) -> Returned | None:
        """The tool's own Command (or list) with the guarded ToolMessage in the place of the tool's answer."""
        return placed(self.command, self.message) if self.command is not None else None

    def report(self, stream: ToolStream, output: Any = None) -> None:
        """Tell ``stream`` how the tool's run ended, with this answer (``output``: what the caller returns for
        it, the tool's own Command or the ToolMessage by default)."""
        if not stream.watched:  # nothing streams tool events on this run
            return
        stream.finished(output if output is not None else self.tool_output() or self.message,
                        message_text(self.message, every_block=True), self.untouched)

    def added_ids(self) -> list[str]:
        """Ids of the messages the tool's Command writes besides its answer. They were checked as the tool's
        output; a ``HumanMessage`` among them is the tool's text, not the user's, and must never be taken
        for user input (whose values the taint rules trust)."""
        return [m.id for m in returned_messages(self.command) if isinstance(m, BaseMessage) and m.id
                and not answers(m, self.message.tool_call_id)]

    def as_update(self, extra: Mapping[str, Any] | None = None) -> Command[Any] | list[Any]:
        """A Command writing the ToolMessage (in the tool's own Command, if it returned one) plus the AIRS
        state keys (and the caller's ``extra`` ones). A tool that returned a list gets its list back, the
        keys in a Command of their own at its end: ``ToolNode`` applies a list item by item, as it does the
        tool's own."""
        keys = dict(extra or {})
        if self.context is not None:
            keys[CONTEXT_KEY] = self.context
        if self.record is not None:
            keys[DECISIONS_KEY] = {self.message.tool_call_id: self.record}
        output = self.tool_output()
        if isinstance(output, list):
            return [*output, Command(update=keys)] if keys else output
        command = output or Command(update={"messages": [self.message]})
        update = with_messages(command.update, update_messages(command.update), keys)
        return Command(graph=command.graph, update=update, resume=command.resume, goto=command.goto)


def tool_message(call: Mapping[str, Any], content: str, *, status: str = "success") -> ToolMessage:
    name, _args, call_id = tool_call_parts(call)
    return ToolMessage(content=content, tool_call_id=call_id, name=name,
                       status="error" if status == "error" else "success")


class _Unrecorded:
    """The ledger of a call outside a LangGraph task. Nothing re-runs such a call (there is no checkpoint
    to resume), so there is nothing to replay and nothing to keep: every call there is a new call, whatever
    its id (a hand-written loop over a provider that reuses ids would otherwise read another call's result,
    another user's even)."""

    def claim(self, thread_id: str, tool_call_id: str, tool_name: str) -> LedgerEntry | None:
        return None

    def complete(self, thread_id: str, tool_call_id: str, content: str, status: str = "success",
                 extra: dict[str, Any] | None = None) -> None:
        return None

    def get(self, thread_id: str, tool_call_id: str) -> LedgerEntry | None:
        return None


UNRECORDED: ExecutionLedger = _Unrecorded()


def task_namespace() -> str | None:
    """The checkpoint namespace of the running LangGraph task, None outside one. The task is what LangGraph
    re-runs on a resume (after a restart too: same task id); a later turn's call runs in another task."""
    config = current_config() or {}
    ns = (config.get("configurable") or {}).get("checkpoint_ns")
    return str(ns) if ns else None


def _call_digest(name: str, args: Mapping[str, Any]) -> str:
    return call_digest(name, canonical_args(dict(args)))


def call_ledger(shield: Shield, key: str, name: str, args: Mapping[str, Any], call_id: str,
                message_id: str | None = None) -> tuple[ExecutionLedger, str, LedgerEntry | None]:
    """Where a call is recorded: the ledger, the call's slot in it, and what that slot holds already.

    The slot is the call itself: its id, its tool and its arguments, within the model message that made it
    (``message_id``) or, when that is not known, within the LangGraph task that runs it. Providers reuse call ids
    (llama.cpp sends one constant id, others number the calls of each round from zero), and a ToolNode runs a
    message's calls at once, so a slot named by the id alone, or chosen by what the ledger held when the call
    started, could hand one call another's result or kept decision. Named by the message, one call reaching the
    tools in two tasks (a graph that sends it twice in one step) runs once: the second task finds it claimed.
    A slot an earlier version named by the task is honoured, so a run paused before an upgrade resumes on it.
    Outside a task nothing is recorded (see :class:`_Unrecorded`)."""
    ns = task_namespace()
    if ns is None:
        return UNRECORDED, call_id, None
    digest = _call_digest(name, args)
    by_task = f"{call_id}@{ns}#{digest}"
    if message_id is None:
        return shield.ledger, by_task, shield.ledger.get(key, by_task)
    slot = f"{call_id}@msg:{message_id}#{digest}"
    entry = shield.ledger.get(key, slot)
    if entry is None and not isinstance(shield.ledger, MemoryLedger):  # only a file outlives an upgrade
        earlier = shield.ledger.get(key, by_task)
        if earlier is not None or shield.ledger.get(key, PENDING_DECISION + by_task) is not None:
            return shield.ledger, by_task, earlier
    return shield.ledger, slot, entry


def blocked_text(name: str, rec: Mapping[str, Any]) -> str:
    reason = str(rec.get("reason") or "denied by policy")
    return f"AIRS blocked the call to `{name}`: {reason}. The tool was not executed."


class _NotAsked:
    def __repr__(self) -> str:
        return "NOT_ASKED"


NOT_ASKED: Any = _NotAsked()
"""What :func:`ask` returns when there is nobody to ask. ``None`` is an answer (a reviewer's UI that
resumes with JSON null), one that cannot be read: it denies with the reason saying what a valid one is."""


_SCRATCHPAD = "__pregel_scratchpad"
"""Where LangGraph keeps one execution of a task's resume values, which ``interrupt()`` hands out by position."""
_ASKED_BOUND = 256
_asked: OrderedDict[int, tuple[Any, dict[str, Any]]] = OrderedDict()
_asked_lock = threading.Lock()


def _answers_here() -> dict[str, Any] | None:
    """The answers this execution of the running task already got, by request id (None when LangGraph does not
    say which execution this is). Keyed by the execution's scratchpad, which is held so that its id is not reused
    while it is a key; the oldest are let go past the bound (a question let go is only asked again)."""
    pad = ((current_config() or {}).get("configurable") or {}).get(_SCRATCHPAD)
    if pad is None:
        return None
    with _asked_lock:
        held = _asked.get(id(pad))
        if held is None or held[0] is not pad:
            held = _asked[id(pad)] = (pad, {})
            while len(_asked) > _ASKED_BOUND:
                _asked.popitem(last=False)
        return held[1]


def ask(request: Mapping[str, Any]) -> Any:
    """``interrupt()`` with the request JSON, and the reviewer's answer on resume, whatever it is;
    :data:`NOT_ASKED` outside a LangGraph task, where nothing can pause.

    Once per request in one execution of the task: a retry or fallback middleware listed before AIRS runs our hook
    again in the same execution, and a second ``interrupt()`` there is a new question (the next position), which
    paused the run to ask the reviewer again about a request already resolved, whose answer was then ignored (a
    rejection too: the call ran on the first approval). The attempt takes the answer the first one got. A re-run of
    the task after a resume is a new execution, and asks in the same order as the first (see :func:`resolved_once`)."""
    if task_namespace() is None:
        return NOT_ASKED
    from langgraph.types import interrupt

    request_id = str(request.get("id") or "")
    here = _answers_here() if request_id else None
    if here is not None and request_id in here:
        return here[request_id]
    answer = interrupt(dict(request))
    if here is not None:
        here[request_id] = answer
    return answer


def resolved_once(ledger: ExecutionLedger, thread_id: str | None, request: ApprovalRequest,
                  answer: Any, *, tool_args: Mapping[str, Any] | None = None,
                  context: RunContext | None = None, held: str | None = None) -> Flow[Decision]:
    """The decision the reviewer's answer to ``request`` resolves to, read once.

    LangGraph re-runs a paused task from its start on every later resume of it (a second interrupt in the
    same task: the result's review, a tool asking its own question, another call of a ToolNode), and each
    re-run gets the same answer back from ``interrupt()``. Resolving it again would audit a second
    approval and judge the deadline anew, so that a call approved in time, which may have run since, would
    be denied as expired. The first resolution is kept in the ledger and every re-run takes it. A flow
    step, so the async driver awaits ``aresolve_approval`` (an edit's re-check may call the judge).
    ``tool_args``: the arguments a tool call runs with, ``context``: the run's, ``held``: the text an approval
    releases (see ``Shield.resolve_approval``).

    Kept for the LangGraph task that asked (the one a resume re-runs, after a restart too): a run forked from a
    checkpoint before the question asks it again, in another task, and that answer is the one that counts (a
    reviewer who rejects there is not overruled by an approval given on the other branch)."""
    ns = task_namespace()
    slot = f"{RESOLVED}{request.id}@{ns}" if ns else RESOLVED + request.id
    kept = ledger.get(thread_id, slot) if thread_id is not None else None
    data = (kept.extra or {}).get("decision") if kept is not None and kept.state == "done" else None
    if isinstance(data, Mapping):
        return Decision.model_validate(data)
    given = {"tool_args": tool_args, "context": context, "held": held}
    final: Decision = yield Ask("resolve_approval", (request, answer),
                                {k: v for k, v in given.items() if v is not None})
    if thread_id is not None:  # without a thread there is no checkpoint, so no re-run to keep it for
        ledger.claim(thread_id, slot, "approval")
        ledger.complete(thread_id, slot, "", status="resolved", extra={"decision": final.model_dump(mode="json")})
    return final


def resolve(rec: Mapping[str, Any], args: Mapping[str, Any], answer: Any, ledger: ExecutionLedger,
            thread_id: str | None, context: RunContext) -> Flow[dict[str, Any]]:
    """The human's answer → the final record (the request is the one recorded before the pause)."""
    request = ApprovalRequest.model_validate(rec["request"])
    final = yield from resolved_once(ledger, thread_id, request, answer, tool_args=args, context=context)
    return decision_record(final, args, request=request)


def tool_call_flow(
    shield: Shield,
    call: Mapping[str, Any],
    *,
    thread_id: str | None,
    context: RunContext,
    records: Mapping[str, Any] | None,
    decide_missing: bool = True,
    can_interrupt: bool = True,
    may_ask: Callable[[str], bool] | None = None,
    final_answer: bool = False,
    instructions: str | None = None,
    message_id: str | None = None,
) -> Flow[ToolOutcome]:
    """Enforce one tool call (see the module docstring). Yields ``Ask`` and ``Run`` steps.

    ``records``: only those made for the message that carries this call (see ``message_records``).
    ``final_answer``: the tool's result is shown to the user as the run's answer (``return_direct``), so after
    the result guard it also passes the output guard, like any answer. ``instructions``: the agent's system
    prompt, when the caller knows it (a call that recites it is leakage). ``message_id``: the id of that
    message, named in the record this writes, so that a later call reusing the id never runs on it.
    """
    name, args, call_id = tool_call_parts(call)
    ctx = context
    key = thread_id or ctx.run_id
    ledger, slot, earlier = call_ledger(shield, key, name, args, call_id, message_id)
    asks = _Asks(can_interrupt, may_ask, ledger, thread_id)
    rec = record_for(records, call_id, name, args)
    fresh = recalled = False
    if rec is None:
        if not decide_missing:
            # a graph wired by hand without the AIRS state keys drops the guard's decisions: say where to look
            rec = {"action": "block", "reason": "no AIRS decision was recorded for this call (fail closed): "
                                                "guard_node must run before this node, on a state with the AIRS "
                                                "keys (AIRSGraphState)",
                   "tool_call_id": call_id, "tool_name": name, MESSAGE_ID: message_id}
            return ToolOutcome(tool_message(call, blocked_text(name, rec), status="error"), None, rec, False)
        kept, kept_ctx = kept_decision(ledger, thread_id, PENDING_DECISION + slot, ctx)
        # the re-run of a call paused for a human takes the decision (and request) it paused with,
        # if that was made on these arguments; it asks again below even if the call ran since, because
        # LangGraph hands out a task's resume values by the order of its interrupts: skipping this one
        # would give the call's approval answer to the next question (the review of its result)
        rec = record_for({call_id: kept}, call_id, name, args) if kept is not None else None
        if rec is not None:
            ctx, recalled = kept_ctx, True
        elif earlier is not None and earlier.state == "done" and earlier.status not in RERUNNABLE:
            # it already ran in this task (a sibling's interrupt re-ran the whole task): replay, do not decide
            return (yield from _replayed(shield, earlier, call, thread_id, None, None, asks))
        else:
            decision: Decision = yield Ask("check_tool_call", (name, args),
                                           {"context": ctx, "tool_call_id": call_id, "instructions": instructions})
            ctx = decision.context
            fresh = True
            request = shield.approval_request(decision, tool_args=args) if decision.needs_approval else None
            rec = decision_record(decision, args, request=request)
            if request is not None:
                keep_decision(ledger, thread_id, PENDING_DECISION + slot, name, rec, ctx)

    action = record_action(rec)
    changed = fresh
    if action is Action.REQUIRE_APPROVAL:
        if may_ask is not None and not may_ask(call_id):
            answer = NOT_ASKED
            why = ("another call of this step is waiting for a human, and one step can only ask about one "
                   "call (fail closed; retry it, or use secure_graph / create_agent)")
        else:
            answer = ask(rec["request"]) if (can_interrupt and rec.get("request")) else NOT_ASKED
            why = "no human could be asked (fail closed)"
        if answer is NOT_ASKED:
            rec = {**rec, "action": "block", "reason": f"{rec.get('reason') or 'approval required'}; {why}"}
        else:
            rec = yield from resolve(rec, args, answer, ledger, thread_id, ctx)
        action = record_action(rec)
        changed = True
    ctx_json = context_out(ctx) if fresh or recalled else None
    # an unchanged record is already in state; writing it again only costs a channel update
    written = {**rec, MESSAGE_ID: message_id} if changed else None

    if action is Action.BLOCK:
        if rec.get("approval") == "respond":
            msg = tool_message(call, str(rec.get("message") or ""), status="success")
        else:
            msg = tool_message(call, blocked_text(name, rec), status="error")
        shield.record("tool_execution", {"tool_name": name, "tool_call_id": call_id, "thread_id": thread_id,
                                         "executed": False, "action": rec.get("action"),
                                         "approval": rec.get("approval")})
        return ToolOutcome(msg, ctx_json, written, False)

    run_args = rec["args"] if action is Action.REDACT and rec.get("args") is not None else args
    entry = ledger.claim(key, slot, name)
    if entry is not None and not (entry.state == "done" and entry.status in RERUNNABLE):
        if entry.state == "done":
            return (yield from _replayed(shield, entry, call, thread_id, ctx_json, written, asks))
        shield.record("tool_execution", {"tool_name": name, "tool_call_id": call_id, "thread_id": thread_id,
                                         "executed": False, "outcome": "unknown"})
        text = (f"AIRS: the call to `{name}` started earlier but its outcome is unknown (the run stopped "
                "mid-call, or another task is running it). It was not run again; check the side effect before "
                "retrying.")
        return ToolOutcome(tool_message(call, text, status="error"), ctx_json, written, False)

    failed: Exception | None = None
    try:
        out = yield Run({**call, "args": run_args})
    except CallChangedError as exc:  # changed inside the middleware after this decision: it did not run
        ledger.complete(key, slot, str(exc), status="error")
        shield.record("tool_execution", {"tool_name": name, "tool_call_id": call_id, "thread_id": thread_id,
                                         "executed": False, "outcome": "changed after the decision"})
        return ToolOutcome(tool_message(call, str(exc), status="error"), ctx_json, written, False)
    except GraphBubbleUp:
        ledger.complete(key, slot, "", status=INTERRUPTED)
        raise
    except Exception as exc:
        if is_invalid_resume(exc):
            # the tool's own ``interrupt(response_schema=...)`` got an answer that does not fit: not the tool's
            # result, but a question still open. Raised as it is, as ``ToolNode`` raises it, so the run fails and
            # the question can be answered again (the call re-runs then, as after any interrupt of its own)
            ledger.complete(key, slot, "", status=INTERRUPTED)
            raise
        # what the exception says reaches the model through whatever turns it into a message outside us
        # (ToolErrorMiddleware, a retry middleware's last word, a ToolNode handling errors): a result like any
        failed, out = exc, tool_message(call, error_text(exc), status="error")

    result, command = _result_message(out, call)
    if command is not None:
        # decisions come from the Shield only: one a tool writes would let the call it names run undecided
        command = without_key(command, DECISIONS_KEY)
    added, leaves, writes, write_leaves, read = _returned_parts(result, command)
    payload, parts = _payload(result.content, added, read)
    guard: Decision = yield Ask("check_tool_result", (name, payload), {"context": ctx, "tool_call_id": call_id})
    if failed is not None and guard.passes_unnoticed(payload, ctx) and read_whole(failed):
        # nothing to guard in it: raised as it is, so that a retry middleware listed before us retries (unless
        # it says more than was read: then it goes on as the message of what was)
        ledger.complete(key, slot, f"tool raised {type(failed).__name__}", status=FAILED)
        shield.record("tool_execution", {"tool_name": name, "tool_call_id": call_id, "thread_id": thread_id,
                                         "executed": True, "status": "error", "error": type(failed).__name__})
        raise failed
    ctx = guard.context
    content, guarded, kept_read = _guarded(guard, result.content, added, read, parts,
                                           _withheld(name, guard.reason))
    at = len(leaves or [])
    artifact = _artifact(result.artifact, leaves, None if kept_read is None else kept_read[:at], guard)
    new_writes = _writes_after(writes, write_leaves, None if kept_read is None else kept_read[at:])
    review: dict[str, Any] | None = None
    if guard.needs_approval:  # nobody reads it before a reviewer does: the model, or the user
        review = shield.approval_request(guard, payload_preview=payload).model_dump(mode="json")
    if final_answer and guarded is not None:
        shown, parts = _payload(content, guarded, [])
        final: Decision = yield Ask("check_output", (shown,), {"context": ctx})
        ctx = final.context
        content, guarded, _none = _guarded(final, content, guarded, [], parts, OUTPUT_REFUSAL)
        if guarded is None:
            artifact = None
        if final.needs_approval and review is None:
            review = shield.approval_request(final, payload_preview=shown).model_dump(mode="json")
    if failed is not None and review is not None:
        # an error message is not worth a reviewer's time, and the tool runs again on the re-run after the
        # answer (it did not complete): withheld
        content, review = _withheld(name, f"{guard.reason or 'needs review'}; an error message is not held for "
                                          "review"), None
    untouched = (review is None and content is result.content and artifact is result.artifact
                 and guarded is not None and all(g is a for g, a in zip(guarded, added, strict=True))
                 and all(n is w for n, w in zip(new_writes, writes, strict=True)))
    if content is not result.content or artifact is not result.artifact:
        result = result.model_copy(update={"content": content, "artifact": artifact})
    if command is not None and added:
        # ids let the middleware tell these from the user's own messages (see ``ToolOutcome.added_ids``)
        command = with_added(command, added, None if guarded is None else [
            m if m.id else m.model_copy(update={"id": f"airs-added-{uuid.uuid4().hex}"}) for m in guarded])
    if command is not None and writes:
        command = with_state_writes(command, new_writes)
    ctx_json = context_out(ctx)
    status = "error" if result.status == "error" else "success"
    extra: dict[str, Any] = {CONTEXT_KEY: ctx_json}
    if needs_keeping(result, command):  # for a replay: the text alone would lose it
        extra[KEPT_KEY] = to_keep(result, command)
    if review is not None:  # kept for the re-run after the reviewer's answer, which replays from the ledger
        extra[REVIEW_KEY] = review
    # a tool that raised did not complete, answered or not: a retry, or the re-run of its task, runs it again
    ledger.complete(key, slot, message_text(result, every_block=True), status=FAILED if failed else status,
                    extra=extra)
    shield.record("tool_execution", {
        "tool_name": name, "tool_call_id": call_id, "thread_id": thread_id, "executed": True,
        "status": status, "edited": run_args is not args, "result_action": guard.action.value,
        "result_correlation_id": guard.correlation_id,
        **({"error": type(failed).__name__} if failed is not None else {}),
    })
    outcome = ToolOutcome(result, ctx_json, written, True, command, untouched)
    if review is not None:
        outcome = yield from _reviewed(outcome, review, asks)
    return outcome


def with_checked(outcome: ToolOutcome) -> Command[Any] | list[Any]:
    """The outcome's Command (or list, see ``ToolOutcome.as_update``); its answer and the messages the tool added
    are marked checked, so the input guard never takes one for the user's (a ``HumanMessage`` a tool writes would
    otherwise join the user's goal, and the values in it would pass the taint rules as the user's own)."""
    message = outcome.message
    if not message.id:
        outcome = replace(outcome, message=message.model_copy(update={"id": f"airs-tool-{uuid.uuid4().hex}"}))
    # the answer is this agent's own too: never read again as another agent's (see ``_foreign``)
    return outcome.as_update({CHECKED_KEY: [outcome.message.id, *outcome.added_ids()]})


def _returned_parts(result: ToolMessage, command: Returned | None) -> tuple[
        list[BaseMessage], list[str] | None, list[Any], list[list[str] | None], list[str]]:
    """What a tool returned besides its content, read with it by the result guard: the messages it added, its
    artifact's strings, its state writes and theirs, and all the strings read after the content."""
    added = added_messages(command, result.tool_call_id)  # checked with the answer: they come from the tool too
    leaves = _leaves(result.artifact)
    writes = state_writes(command)  # likewise what it writes to other state keys (see ``_added``)
    write_leaves = [_leaves(v) for v in writes]
    read = [*(leaves or []), *(t for v, own in zip(writes, write_leaves, strict=True)
                               for t in (own if own is not None else [_opaque_text(v)]))]
    return added, leaves, writes, write_leaves, read


def _held_payload(outcome: ToolOutcome) -> str:
    """The text of a result held for a reviewer, as the result guard reads it (what an approval releases)."""
    message = outcome.message
    added, *_unused, read = _returned_parts(message, outcome.command)
    return _payload(message.content, added, read)[0]


def _redacted_outcome(outcome: ToolOutcome, d: Decision) -> ToolOutcome | None:
    """A held result with the redaction of ``d`` (made on :func:`_held_payload`) applied to its content, the
    messages its tool added, its artifact and its state writes; None when it cannot be put back."""
    message, command = outcome.message, outcome.command
    added, leaves, writes, write_leaves, read = _returned_parts(message, command)
    _text, parts = _payload(message.content, added, read)
    content, guarded, kept = _guarded(d, message.content, added, read, parts, "")
    if guarded is None or kept is None:
        return None
    at = len(leaves or [])
    artifact = _artifact(message.artifact, leaves, kept[:at], d)
    if command is not None and added:
        command = with_added(command, added, guarded)
    if command is not None and writes:
        command = with_state_writes(command, _writes_after(writes, write_leaves, kept[at:]))
    return replace(outcome, message=message.model_copy(update={"content": content, "artifact": artifact}),
                   command=command)


@dataclass(frozen=True)
class _Asks:
    """Whether this call may ask a human (see ``tool_call_flow``'s ``can_interrupt`` and ``may_ask``), and
    where the answers it got are kept (see :func:`resolved_once`)."""

    can_interrupt: bool
    may_ask: Callable[[str], bool] | None
    ledger: ExecutionLedger
    thread_id: str | None

    def ok(self, call_id: str) -> bool:
        return self.can_interrupt and (self.may_ask is None or self.may_ask(call_id))


@dataclass(frozen=True)
class _Parts:
    """How a guarded payload was joined: the separator (None for a single part), the result's block count
    and the number of messages its tool added (the artifact's strings come after them)."""

    sep: str | None
    blocks: int
    added: int


def _payload(content: Any, added: Sequence[BaseMessage], leaves: Sequence[str]) -> tuple[str, _Parts]:
    """One payload for a result's blocks, the messages its tool added and the strings of its artifact,
    checked in one decision; each is a part of its own, so a redaction can be put back part by part (an
    image stays)."""
    texts = block_texts(content)
    payload, sep = joined(texts[0], [*texts[1:], *(added_text(m) for m in added), *leaves])
    return payload, _Parts(sep, len(texts), len(added))


def _guarded(d: Decision, content: Any, added: Sequence[BaseMessage], leaves: Sequence[str], parts: _Parts,
             withheld: str) -> tuple[Any, list[BaseMessage] | None, list[str] | None]:
    """A result's content, the messages its tool added and its artifact's strings, after decision ``d`` on
    their joined text: rewritten by a redaction, or ``withheld`` (the added messages and the artifact
    dropped: None) by a block."""
    if d.blocked:
        return withheld, None, None
    rewritten = d.rewritten  # held for a reviewer too: what an approval releases stays redacted
    if rewritten is not None:
        count = parts.blocks + parts.added + len(leaves)
        texts = split_joined(rewritten, parts.sep, count) if parts.sep else [rewritten]
        if texts is None:  # a redaction across two parts cannot be split back: withhold it all
            return withheld, None, None
        end = parts.blocks + parts.added
        new_added = [_rewritten(m, t) for m, t in zip(added, texts[parts.blocks:end], strict=True)]
        if any(m is None for m in new_added):  # a call's arguments cannot be rewritten from its text: withhold it all
            return withheld, None, None
        return with_block_texts(content, texts[:parts.blocks]), [m for m in new_added if m is not None], texts[end:]
    return content, list(added), list(leaves)


def _rewritten(message: BaseMessage, text: str) -> BaseMessage | None:
    """An added message with its guarded text; None when the redaction reached the calls it makes."""
    if not getattr(message, "tool_calls", None):
        return message.model_copy(update={"content": text})
    return message if text == added_text(message) else None


_ARTIFACT_DEPTH = 32


def _leaves(artifact: Any, depth: int = 0) -> list[str] | None:
    """The strings of a JSON-like artifact (dicts, lists, tuples, strings, numbers), in order; None for any
    other artifact (a ``Document``, bytes, an object), whose text cannot be put back after a redaction."""
    if isinstance(artifact, str):
        return [artifact]
    if artifact is None or isinstance(artifact, (bool, int, float)):
        return []
    kind = type(artifact)
    if depth >= _ARTIFACT_DEPTH or kind not in (dict, list, tuple):
        return None
    out: list[str] = []
    for value in artifact.values() if kind is dict else artifact:
        found = _leaves(value, depth + 1)
        if found is None:
            return None
        out.extend(found)
    return out


def artifact_texts(output: Any) -> list[str]:
    """The strings of a tool answer's JSON-like artifact, which the result guard reads with its content (see
    ``_artifact``); none for any other answer or artifact."""
    return (_leaves(output.artifact) or []) if isinstance(output, ToolMessage) else []


def _with_leaves(artifact: Any, texts: Iterator[str]) -> Any:
    if isinstance(artifact, str):
        return next(texts)
    if type(artifact) is dict:
        return {k: _with_leaves(v, texts) for k, v in artifact.items()}
    if type(artifact) in (list, tuple):
        return type(artifact)(_with_leaves(v, texts) for v in artifact)
    return artifact


def _artifact(artifact: Any, leaves: list[str] | None, kept: list[str] | None, d: Decision) -> Any:
    """The artifact of a ``content_and_artifact`` tool after the result decision ``d``.

    The artifact never reaches the model, but it is kept in state and checkpoints and streamed to clients,
    so it gets what the content gets: a JSON-like artifact's strings are checked as parts of the result
    and redacted in place; it is dropped (None) with a withheld result. Any other artifact cannot be
    checked or rewritten: it is kept only when the result passes unchanged, and dropped when the result is
    redacted or withheld."""
    if artifact is None or kept is None:
        return None
    if leaves is None:
        return None if d.rewritten is not None else artifact
    return artifact if kept == leaves else _with_leaves(artifact, iter(kept))


def _opaque_text(value: Any) -> str:
    """The text of a state write that is not JSON-like (an object): read, but never put back (see
    :func:`_writes_after`)."""
    try:
        return str(value)
    except Exception:  # an object whose __str__ fails says nothing the model could read either
        return ""


def _writes_after(writes: Sequence[Any], leaves: Sequence[list[str] | None],
                  texts: list[str] | None) -> list[Any]:
    """The values a tool writes to state after the result decision, which rewrote their strings into ``texts``
    (None: withheld, see :func:`_writes_withheld`). A JSON-like value is redacted in place; an object whose
    text was rewritten cannot be, and is left out (:data:`DROPPED`)."""
    if texts is None:
        return _writes_withheld(writes)
    feed = iter(texts)
    out: list[Any] = []
    for value, own in zip(writes, leaves, strict=True):
        if own is None:
            out.append(value if next(feed) == _opaque_text(value) else DROPPED)
            continue
        new = [next(feed) for _ in own]
        out.append(value if new == own else _with_leaves(value, iter(new)))
    return out


def _writes_withheld(writes: Sequence[Any]) -> list[Any]:
    """A withheld result's state writes: the tool ran, so a write without text (a count, a flag) stands; one with
    text is something the tool said, which a prompt built from state would show the model, and is left out."""
    return [value if _leaves(value) == [] else DROPPED for value in writes]


def _reviewed(outcome: ToolOutcome, review: Mapping[str, Any], asks: _Asks) -> Flow[ToolOutcome]:
    """A result (or a ``return_direct`` answer) that a reviewer must release: asked with ``interrupt()``;
    anything but an approval (or no human to ask) withholds it, a response takes its place."""
    message = outcome.message
    answer = ask(review) if asks.ok(message.tool_call_id) else NOT_ASKED
    request = ApprovalRequest.model_validate(review)
    final: Decision | None = None
    if answer is not NOT_ASKED:
        # the held text goes with the answer: approved under a policy changed since, it is re-checked under it
        final = yield from resolved_once(asks.ledger, asks.thread_id, request, answer,
                                         held=_held_payload(outcome))
    if final is not None and final.allowed:
        if final.rewritten is None:
            return outcome
        redacted = _redacted_outcome(outcome, final)
        if redacted is not None:
            return redacted
    said = final.reply if final is not None else None
    why = "no human could be asked (fail closed)" if final is None else f"not released: {final.reason}"
    if final is not None and final.allowed:  # the redaction cannot be put back into what the tool returned
        why = f"{why}; the redaction could not be applied to it, so it is withheld"
    text = said or _withheld(message.name or request.tool_name or "tool", f"{request.reason}; {why}")
    command = outcome.command
    if command is not None:
        command = with_added(command, added_messages(command, message.tool_call_id), None)
        command = with_state_writes(command, _writes_withheld(state_writes(command)))
    return replace(outcome, message=message.model_copy(update={"content": text, "artifact": None}), command=command)


def _withheld(name: str, reason: str | None) -> str:
    return f"[AIRS withheld the result of `{name}`: {reason or 'unsafe content'}]"


def kept_decision(ledger: ExecutionLedger, thread_id: str | None, slot: str,
                  ctx: RunContext) -> tuple[Mapping[str, Any] | None, RunContext]:
    """The record kept under ``slot`` for something in this thread that paused for a human, and ``ctx``
    merged with the run's context at that moment (``None, ctx`` when nothing is kept)."""
    entry = ledger.get(thread_id, slot) if thread_id is not None else None
    extra = entry.extra if entry is not None and entry.state == "done" else None
    record = extra.get("record") if extra else None
    if not isinstance(record, Mapping):
        return None, ctx
    kept = extra.get(CONTEXT_KEY) if extra else None
    return record, RunContext.coerce(merge_context(context_out(ctx), kept)) if isinstance(kept, Mapping) else ctx


def keep_decision(ledger: ExecutionLedger, thread_id: str | None, slot: str, name: str,
                  record: Mapping[str, Any], ctx: RunContext) -> None:
    """Keep a decision that is about to ask a human, with the run's context, before the ``interrupt()``:
    LangGraph re-runs the node or tool from its start on resume, and the re-run must resolve this
    request, not decide anew. Without a thread id there is no checkpoint to resume, so nothing is kept.
    A later decision under the same slot (a call id reused with other arguments) replaces it."""
    if thread_id is None:
        return
    ledger.claim(thread_id, slot, name)
    ledger.complete(thread_id, slot, "", status=DECIDED,
                    extra={"record": dict(record), CONTEXT_KEY: context_out(ctx)})


def _replayed(shield: Shield, entry: LedgerEntry, call: Mapping[str, Any], thread_id: str | None,
              ctx_json: dict[str, Any] | None, written: dict[str, Any] | None, asks: _Asks) -> Flow[ToolOutcome]:
    """The recorded result of a call that already ran to completion: returned again, never re-run (and
    still subject to the review it was waiting for)."""
    name, _args, call_id = tool_call_parts(call)
    extra = entry.extra or {}
    replayed = ToolMessage(content=entry.content or "", tool_call_id=call_id, name=name,
                           status="error" if entry.status == "error" else "success")
    command: Returned | None = None
    back = restored(extra.get(KEPT_KEY))
    if back is not None:
        replayed, command = back[0].model_copy(update={"tool_call_id": call_id}), back[1]
    missing = lost(extra.get(KEPT_KEY), back)
    shield.record("tool_execution", {"tool_name": name, "tool_call_id": call_id, "thread_id": thread_id,
                                     "executed": False, "replayed": True, **({"lost": missing} if missing else {})})
    outcome = ToolOutcome(replayed, extra.get(CONTEXT_KEY) or ctx_json, written, False, command)
    review = extra.get(REVIEW_KEY)
    if isinstance(review, Mapping):
        outcome = yield from _reviewed(outcome, review, asks)
    return outcome


def _result_message(out: Any, call: Mapping[str, Any]) -> tuple[ToolMessage, Returned | None]:
    """The tool's answer to ``call`` (the text the result guard reads) and what else it returned."""
    _name, _args, call_id = tool_call_parts(call)
    if isinstance(out, ToolMessage):
        # the answer this call's tool returned, whatever call it names: passed on under another id, it would
        # leave this call unanswered and answer another one twice, or one the model never made
        return (out if answers(out, call_id) else out.model_copy(update={"tool_call_id": call_id})), None
    if isinstance(out, Command) and readable(out.update):
        for m in update_messages(out.update):
            if answers(m, call_id):
                return m, out
        return tool_message(call, ""), out
    if tool_list(out):
        return _listed_answer(out, call)
    return tool_message(call, message_text(out) if not isinstance(out, str) else out), None


def _listed_answer(out: list[Any], call: Mapping[str, Any]) -> tuple[ToolMessage, Returned | None]:
    """The answer in a list of ToolMessages and Commands, which must hold exactly one ToolMessage, answering
    this call (``ToolNode``'s rule for a list; one for another call would answer that call twice, or one the
    model never made). Any other list is refused whole, its state updates with it: which of its messages the
    model was meant to read as the answer cannot be told."""
    name, _args, call_id = tool_call_parts(call)
    found = [m for m in returned_messages(out) if isinstance(m, ToolMessage)]
    if len(found) == 1 and answers(found[0], call_id) \
            and all(readable(i.update) for i in out if isinstance(i, Command)):
        return found[0], out
    ours = sum(answers(m, call_id) for m in found)
    text = (f"AIRS refused the output of `{name}`: it returned a list with {len(found)} ToolMessages, {ours} of "
            "them answering this call; a list must hold exactly one, answering this call. Its messages and "
            "state updates were not applied; the tool did run.")
    return tool_message(call, text, status="error"), None


HELD_TEXT = "The answer is waiting for a reviewer's approval."


def hold(record: dict[str, Any], request_id: str, messages: Sequence[BaseMessage]) -> AIMessage:
    """Keep ``messages`` (an answer waiting for a reviewer) in ``record``, and return the placeholder that
    stands for them in ``messages`` meanwhile (ours, so no guard checks it)."""
    placeholder = AIMessage(HELD_TEXT, id=f"airs-held-{request_id}", additional_kwargs={REFUSAL_MARK: True})
    record.update(message_id=placeholder.id, held=[message_to_dict(m) for m in messages])
    return placeholder


def held_answer_text(held: Sequence[Mapping[str, Any]]) -> str | None:
    """The text of an answer held by :func:`hold`, as the output guard read it (its message's text, then its
    structured answers; see ``output_payload``); None when it holds no AI message."""
    first = messages_from_dict([dict(held[0])]) if held else []
    if not first or not isinstance(first[0], AIMessage):
        return None
    return output_payload(message_text(first[0]), first[0].tool_calls)


def released_answer(held: Sequence[Mapping[str, Any]], final: Decision | None) -> list[BaseMessage] | None:
    """The held messages an approval releases, with the redaction the reviewer's ``final`` decision carries (a
    re-check under a policy changed since the answer was held, see ``Shield.resolve_approval``); None when they
    stay withheld: not approved, or a structured answer, whose structured response a redaction would have to
    rebuild."""
    if final is None or not final.allowed:
        return None
    messages = messages_from_dict([dict(m) for m in held])
    if final.rewritten is None:
        return messages
    first = messages[0] if messages else None
    if not isinstance(first, AIMessage) or first.tool_calls:
        return None
    return [first.model_copy(update={"content": final.rewritten}), *messages[1:]]


def release_held(placeholder_id: str, released: Sequence[BaseMessage] | None, said: str) -> list[Any]:
    """The placeholder out; the ``released`` messages (see :func:`released_answer`) in, else the refusal. They
    come in as new messages so that they are streamed (LangGraph streams a message id once)."""
    return [RemoveMessage(id=placeholder_id), *(released if released is not None else [refusal(said)])]


def refusal(text: str, *, replace: AIMessage | None = None) -> AIMessage:
    """Our own answer (marked so the output guard skips it); same id ⇒ replaces the model's message. Always with
    an id, so that the agent can mark it as its own (see ``_foreign``)."""
    message_id = replace.id if replace is not None and replace.id else f"airs-refusal-{uuid.uuid4().hex}"
    return AIMessage(content=text, id=message_id, additional_kwargs={REFUSAL_MARK: True})
