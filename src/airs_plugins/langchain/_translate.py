"""Framework objects → core inputs, and the plain-dict state the adapters persist.

Everything kept in LangGraph state is a plain JSON-able dict (unregistered types in checkpoints are
about to be refused by LangGraph's serializer). Two keys carry AIRS state:

* ``airs_context``: ``RunContext.model_dump(mode="json")``. Parallel tool calls update it
  concurrently, so its reducer :func:`merge_context` merges instead of overwriting: observations
  are united by digest, counters take the maximum, per-tool timestamps are united.
* ``airs_decisions``: one record per tool call id (see :func:`decision_record`), merged key by key.

This module is also what ``airs_plugins.langgraph`` builds on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage

from .._canonical import args_digest
from .._context_codec import decode_context, encode_context
from .._decision import FOLDED_SOURCE, MAX_OBSERVATIONS, Action, ApprovalRequest, Decision, Observation, RunContext
from .._observations import bounded, covering
from .._words import words

CONTEXT_KEY = "airs_context"
DECISIONS_KEY = "airs_decisions"
CHECKED_KEY = "airs_checked"
OUTPUT_KEY = "airs_output"
MESSAGE_ID = "message_id"
"""Key of a tool-call record: the id of the AIMessage whose call it decided (see :func:`message_records`)."""
REFUSAL_MARK = "airs_refusal"
"""Set in ``additional_kwargs`` of the messages we write, so we never scan our own refusals."""

_MAX_RECORDS = 512


# -- reducers (LangGraph channels) -------------------------------------------------------------
def merge_context(left: Mapping[str, Any] | None, right: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Merge two ``RunContext`` dumps written by concurrent steps of one run.

    Every update derives from an earlier value, so the union of what each side saw is the truth:
    taint can only grow, counters only rise. In a sequential run the update already holds everything
    the current value does; it is then returned as it is (same object, so :func:`context_in` knows it).
    """
    if not left:
        return dict(right) if right else None
    if not right or left is right:
        return dict(left)
    lo: Sequence[Mapping[str, Any]] = left.get("observations") or ()
    ro: Sequence[Mapping[str, Any]] = right.get("observations") or ()
    if len(lo) <= len(ro) and all(a is b for a, b in zip(lo, ro, strict=False)):
        # the usual sequential write: the update's list starts with the very dicts already kept
        # (observation dumps are shared, see _context_codec), so nothing can be missing
        missing: list[Mapping[str, Any]] = []
    else:
        have = {(o.get("source"), o.get("digest")) for o in ro}
        missing = [o for o in lo if (o.get("source"), o.get("digest")) not in have]
        summaries = [o for o in ro if o.get("source") == FOLDED_SOURCE]
        if missing and summaries:  # a long run: the update folded its oldest reads, which left still lists
            covered = covering(summaries)
            missing = [o for o in missing if not covered(o)]
    if missing:
        observations: Sequence[Mapping[str, Any]] = _bounded_dumps(
            sorted([*ro, *missing], key=lambda o: float(o.get("at", 0.0))))
    else:
        observations = ro
    lt: Mapping[str, Sequence[float]] = left.get("tool_calls") or {}
    rt: Mapping[str, Sequence[float]] = right.get("tool_calls") or {}
    tool_calls = rt if lt == rt else {k: sorted({*lt.get(k, ()), *rt.get(k, ())}) for k in {*lt, *rt}}
    lg, rg = left.get("user_goal") or "", right.get("user_goal") or ""
    merged = {
        **dict(right),
        **dict(left),
        "observations": list(observations),
        "tool_calls": dict(tool_calls),
        **_request_counters(left, right),
        # the goal only grows by appending, so the longer one contains the other
        "user_goal": (rg if len(rg) > len(lg) else lg) or None,
        "thread_id": left.get("thread_id") or right.get("thread_id"),
        "agent_id": left.get("agent_id") or right.get("agent_id"),
    }
    # observation dicts are shared between dumps, so this comparison is mostly identity checks
    return right if isinstance(right, dict) and merged == right else merged


def _request_counters(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """The counters of the user's latest request (loop, turn and retry caps). They start again at each input: the
    side that read the later input holds them, and a step of the same request adds to them. Raised to the other
    side's instead, a reset never took, and the caps counted over the whole thread."""
    li, ri = int(left.get("inputs", 0)), int(right.get("inputs", 0))
    if li != ri:
        newer = left if li > ri else right
        return {"inputs": max(li, ri), "call_signatures": dict(newer.get("call_signatures") or {}),
                "turns": int(newer.get("turns", 0)), "retries": int(newer.get("retries", 0))}
    ls: Mapping[str, int] = left.get("call_signatures") or {}
    rs: Mapping[str, int] = right.get("call_signatures") or {}
    signatures = rs if ls == rs else {k: max(ls.get(k, 0), rs.get(k, 0)) for k in {*ls, *rs}}
    return {"inputs": li, "call_signatures": dict(signatures),
            "turns": max(int(left.get("turns", 0)), int(right.get("turns", 0))),
            "retries": max(int(left.get("retries", 0)), int(right.get("retries", 0)))}


def _bounded_dumps(observations: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if len(observations) <= MAX_OBSERVATIONS:
        return observations
    kept = bounded([Observation.model_validate(dict(o)) for o in observations])
    return [o.model_dump(mode="json") for o in kept]


def merge_decisions(left: Mapping[str, Any] | None, right: Mapping[str, Any] | None) -> dict[str, Any]:
    """Per-tool-call records: a later record for the same call id replaces the earlier one.

    A record is needed until its call has run (the audit keeps it for good), so a long thread keeps the
    newest ``_MAX_RECORDS``: the state, re-saved at every step, does not grow with the thread's history."""
    merged = {**(left or {}), **(right or {})}
    return merged if len(merged) <= _MAX_RECORDS else dict(list(merged.items())[-_MAX_RECORDS:])


def merge_ids(left: Sequence[str] | None, right: Sequence[str] | None) -> list[str]:
    """The checked message ids, newest 1000 kept: the input guard reads only the messages after the newest
    checked one, so an id that falls out never makes its message new input again."""
    out = list(left or [])
    out.extend(i for i in (right or []) if i not in out)
    return out[-1000:]


# -- reading framework objects -----------------------------------------------------------------
def state_get(state: Any, key: str, default: Any = None) -> Any:
    if isinstance(state, Mapping):
        return state.get(key, default)
    return getattr(state, key, default)


def message_text(message: Any, *, every_block: bool = False) -> str:
    """The text of a LangChain message (or a plain string/dict), blocks joined.

    ``every_block``: also the words inside blocks that are not text blocks (a ``json`` block, an
    Anthropic ``search_result`` or ``document``, nested content). Untrusted content can hide there, and
    providers show it to the model; tool results are read this way."""
    if message is None:
        return ""
    if isinstance(message, str):
        return message
    content = message.get("content") if isinstance(message, Mapping) else getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "\n".join(t for t in (_block_text(b, every_block) for b in content) if t is not None)
    return str(content)


def _block_text(block: Any, every_block: bool) -> str | None:
    """What ``message_text`` reads in one content block (None: nothing, an image or an unread block)."""
    if isinstance(block, str):
        return block
    if isinstance(block, Mapping) and isinstance(block.get("text"), str):
        return str(block["text"])
    if every_block and isinstance(block, Mapping):
        found = words(block)
        return "\n".join(found) if found else None
    return None


def block_texts(content: Any) -> list[str]:
    """The text of each content block as ``message_text(..., every_block=True)`` reads it, one entry per
    block ("" for a block without words, such as an image); a string is one block, and so is no block."""
    if isinstance(content, str):
        return [content]
    if isinstance(content, Sequence):
        return [_block_text(b, True) or "" for b in content] or [""]
    return [str(content)]


def with_block_texts(content: Any, texts: Sequence[str]) -> Any:
    """``content`` with each block's text replaced by ``texts`` (same order as :func:`block_texts`).

    Unchanged blocks stay as they are, an image beside redacted text included. A changed text block keeps
    its other keys; a changed block of another kind (a ``json`` block, a search result) becomes a text
    block with the new text, since its words cannot be put back into its structure one by one."""
    if isinstance(content, str) or not isinstance(content, Sequence):
        return texts[0]
    if not content:  # no block: one empty part, which a redaction cannot change
        return content
    out: list[Any] = []
    for block, old, new in zip(content, block_texts(content), texts, strict=True):
        if new == old:
            out.append(block)
        elif isinstance(block, str):
            out.append(new)
        elif isinstance(block, Mapping) and isinstance(block.get("text"), str):
            out.append({**block, "text": new})
        else:
            out.append({"type": "text", "text": new})
    return out


def system_text(messages: Sequence[Any]) -> str | None:
    """The system prompt a graph keeps in its ``messages`` (None when it keeps none there)."""
    text = "\n".join(message_text(m) for m in messages if getattr(m, "type", None) == "system")
    return text if text.strip() else None


def server_results(message: Any) -> list[tuple[str, str]]:
    """``(tool name, words)`` of each result a provider-side tool (web search, web fetch, code execution)
    put in the model's own message. The model read that content during this very call, so it is as
    untrusted as any tool result: the calls the same message makes are decided after it is recorded."""
    content = getattr(message, "content", None)
    if not isinstance(content, list) or not any(
            isinstance(b, Mapping) and "tool" in str(b.get("type", "")) for b in content):
        return []  # plain answers: skip LangChain's block conversion
    try:
        blocks = list(message.content_blocks)
    except Exception:  # a provider format LangChain cannot convert: read its result blocks as they are
        return [("server_tool", text) for b in content if isinstance(b, Mapping)
                and str(b.get("type", "")).endswith("tool_result") and (text := "\n".join(words(b))).strip()]
    names = {b.get("id"): b.get("name") for b in blocks if b.get("type") == "server_tool_call"}
    out: list[tuple[str, str]] = []
    for b in blocks:
        if b.get("type") == "server_tool_result":
            text = "\n".join(words(b.get("output")))
            if text.strip():
                out.append((str(names.get(b.get("tool_call_id")) or "server_tool"), text))
    return out


def is_summary(message: Any) -> bool:
    """Whether a message is the conversation summary ``SummarizationMiddleware`` puts in place of the messages it
    removed (a ``HumanMessage``, but written by a model that read them all)."""
    kwargs = getattr(message, "additional_kwargs", None) or {}
    return kwargs.get("lc_source") == "summarization"


def is_ours(message: Any) -> bool:
    kwargs = getattr(message, "additional_kwargs", None) or {}
    return bool(kwargs.get(REFUSAL_MARK))


def thread_id_of(config: Mapping[str, Any] | None) -> str | None:
    configurable = (config or {}).get("configurable") or {}
    tid = configurable.get("thread_id")
    return str(tid) if tid is not None else None


def current_config() -> dict[str, Any] | None:
    """The running LangGraph/LangChain config, or None outside a runnable."""
    try:
        from langgraph.config import get_config

        return dict(get_config())
    except RuntimeError:
        return None


def agent_of(config: Mapping[str, Any] | None) -> str | None:
    """The name of the ``create_agent`` agent whose step this is (``create_agent(name=...)``), None when unnamed.

    An unnamed agent run inside a named one's tool inherits the outer name: its calls are made for that tool."""
    name = ((config or {}).get("metadata") or {}).get("lc_agent_name")
    return str(name) if name else None


def context_in(state: Any, thread_id: str | None, agent_id: str | None = None) -> RunContext:
    """The run's ``RunContext`` from state (a fresh one on the first call of a thread), naming ``agent_id`` as the
    agent in charge when it is known: agents that share a context (a parent graph that carries it from one agent
    to the next) each make their own decisions (MASO IA-1.1)."""
    ctx = decode_context(state_get(state, CONTEXT_KEY), thread_id=thread_id)
    update: dict[str, Any] = {}
    if thread_id is not None and ctx.thread_id is None:
        update["thread_id"] = thread_id
    if agent_id is not None and ctx.agent_id != agent_id:
        update["agent_id"] = agent_id
    return ctx.model_copy(update=update) if update else ctx


context_out = encode_context
"""The dict kept in state for a ``RunContext`` (see ``_context_codec``)."""


def tool_call_parts(call: Mapping[str, Any]) -> tuple[str, dict[str, Any], str]:
    args = call.get("args")
    return str(call.get("name") or ""), dict(args) if isinstance(args, Mapping) else {}, str(call.get("id") or "")


# -- decision records kept in state ------------------------------------------------------------
def decision_record(decision: Decision, args: Mapping[str, Any], *,
                    request: ApprovalRequest | None = None) -> dict[str, Any]:
    """A plain-dict record of a tool-call decision, bound to the arguments it was made on."""
    approval = decision.approval
    return {
        "tool_call_id": decision.tool_call_id,
        "tool_name": decision.tool_name,
        "action": decision.action.value,
        "enforced": decision.enforced,
        "layer": decision.layer.value,
        "reason": decision.reason,
        "correlation_id": decision.correlation_id,
        "args_digest": args_digest(args),
        "args": dict(decision.redacted_args) if decision.redacted_args is not None else None,
        "request": request.model_dump(mode="json") if request is not None else None,
        "approval": approval.type if approval is not None else None,
        "message": approval.message if approval is not None else None,
        "reviewer": approval.reviewer if approval is not None else None,
        "findings": [f.category for f in decision.findings],
    }


def record_for(records: Mapping[str, Any] | None, call_id: str, name: str,
               args: Mapping[str, Any]) -> dict[str, Any] | None:
    """The recorded decision for this call, only if it was made on this very tool and these exact arguments.

    Anything between the decision and the tool (a middleware listed before ``AIRSMiddleware``, such as
    LangChain's ``HumanInTheLoopMiddleware`` applying a reviewer's edit) may change the call; a changed
    call is decided anew, never run on the decision made for another tool or other arguments."""
    rec = (records or {}).get(call_id)
    if not isinstance(rec, Mapping) or rec.get("tool_name") != name or rec.get("args_digest") != args_digest(args):
        return None
    return dict(rec)


def last_turn(messages: Sequence[Any]) -> int:
    """The index of the last AIMessage (-1 when there is none)."""
    return next((i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], AIMessage)), -1)


def carrier(messages: Sequence[Any], call_id: str) -> int:
    """The index of the last AIMessage that makes the call ``call_id`` (-1 when none does): under a reused id,
    the newest call is the one about to run (the earlier ones have their answers)."""
    return next((i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], AIMessage)
                 and any(c.get("id") == call_id for c in messages[i].tool_calls)), -1)


def message_records(records: Mapping[str, Any] | None, messages: Sequence[Any], at: int) -> dict[str, Any]:
    """The records in ``airs_decisions`` that decided the calls of ``messages[at]`` (an AIMessage), by call id.

    Providers reuse call ids (llama.cpp sends one constant id, others number each round's calls from zero), so
    a record kept under an id may have decided an earlier call that had it: that call is finished (its
    ToolMessage is in ``messages``) and this one is new, to be decided like any other, never run on the
    earlier call's approval or counted once by the loop cap. A record names the message whose call it
    decided; one without that name (kept by an earlier version) counts only while no ToolMessage before
    the message answers its id."""
    if at < 0 or not records:
        return {}
    message: AIMessage = messages[at]
    finished: set[str] | None = None
    out: dict[str, Any] = {}
    for call in message.tool_calls:
        call_id = call.get("id") or ""
        rec = records.get(call_id)
        if not isinstance(rec, Mapping):
            continue
        made_for = rec.get(MESSAGE_ID)
        if made_for is None or message.id is None:
            if finished is None:
                finished = {m.tool_call_id for m in messages[:at] if isinstance(m, ToolMessage)}
            current = call_id not in finished
        else:
            current = made_for == message.id
        if current:
            out[call_id] = rec
    return out


def record_action(rec: Mapping[str, Any]) -> Action:
    """What enforcement must do for a record (monitor mode records but never stops)."""
    if not rec.get("enforced", True):
        return Action.ALLOW
    return Action(rec["action"])
