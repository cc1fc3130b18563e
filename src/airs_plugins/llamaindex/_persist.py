"""Pause a guarded run, persist its context signed, restore it later (possibly in another process).

An agent context keeps its memory only under ``JsonPickleSerializer`` (``JsonSerializer`` silently
drops it), and unpickling runs code chosen by whoever wrote the blob. So the serialized context is
wrapped in an HMAC envelope (:mod:`airs_plugins._signing`) and a blob whose signature fails is refused
before anything is unpickled.

A waiter event is not re-emitted after a restore; the pending approval requests are read back from
``ctx.store`` with :func:`pending_approvals`.

``AIRSWorkflow`` keeps its agent's context (pickled memory) inside its own run's store, where a run persisted
some other way (``JsonSerializer``, which pickles nothing itself) would carry it unsigned. So it is sealed with
a key that never leaves the process, and opened only when the seal holds: a run restored in another process is
vouched for by :func:`load_context`'s signature, which reseals what the run keeps.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from llama_index.core.workflow import Context, JsonPickleSerializer

from .. import _signing
from .._decision import ApprovalRequest
from .._errors import SignatureError
from ._events import ApprovalRequired
from ._state import PENDING_KEY
from ._steps import AGENT_CTX_KEY, AGENT_PENDING_KEY, AGENT_WAITING_KEY, FLOW_PENDING_KEY

PURPOSE = "airs_plugins.llamaindex.context/v1"
SEALED = "airs_plugins.llamaindex.agent_context/v1"
_PROCESS_KEY = secrets.token_bytes(32)


def _context_of(obj: Any) -> Any:
    ctx = getattr(obj, "ctx", None)  # a WorkflowHandler
    return ctx if ctx is not None else obj


def save_context(handler_or_ctx: Any, *, key: bytes | str | None = None) -> str:
    """Serialize a run's context with ``JsonPickleSerializer`` and sign it (key or ``AIRS_CONTEXT_KEY``)."""
    ctx = _context_of(handler_or_ctx)
    data = ctx.to_dict(serializer=JsonPickleSerializer())
    return _signing.sign(json.dumps(data), key=key, purpose=PURPOSE)


def load_context(workflow: Any, blob: str | bytes, *, key: bytes | str | None = None) -> Context:
    """Verify the signature of ``blob`` and only then rebuild the context for ``workflow``.

    Raises :class:`~airs_plugins._signing.SignatureError` when the blob was altered or the key differs.
    """
    payload = _signing.verify(blob, key=key, purpose=PURPOSE)
    _preload_tokenizer()
    data = json.loads(payload)
    _reseal(((data.get("state") or {}).get("state_data") or {}).get("_data") or {})
    return Context.from_dict(workflow, data, serializer=JsonPickleSerializer())


def seal_agent_context(ctx: Any) -> str:
    """An agent's context, serialized to be kept in an ``AIRSWorkflow`` run's store and opened in this process."""
    return _signing.sign(json.dumps(ctx.to_dict(serializer=JsonPickleSerializer())), key=_PROCESS_KEY,
                         purpose=SEALED)


def open_agent_context(agent: Any, sealed: Any) -> Context:
    """The agent's context kept by :func:`seal_agent_context`; refused before anything is unpickled unless this
    process sealed it (or :func:`load_context` resealed it after checking the run's signature)."""
    try:
        if not isinstance(sealed, str):
            raise SignatureError("not sealed")
        payload = _signing.verify(sealed, key=_PROCESS_KEY, purpose=SEALED)
    except SignatureError as exc:
        msg = ("the agent context kept in this AIRSWorkflow run was not sealed by this process (the run was restored "
               "without load_context, or altered); refusing to unpickle it. Save runs with save_context and restore "
               "them with load_context")
        raise SignatureError(msg) from exc
    _preload_tokenizer()
    return Context.from_dict(agent, json.loads(payload), serializer=JsonPickleSerializer())


def _reseal(values: dict[str, Any]) -> None:
    """Seal the agent contexts an ``AIRSWorkflow`` run keeps for this process: the run's verified signature vouches
    for them (sealed by the process that saved it, or kept unsealed by an earlier version)."""
    for key in (AGENT_CTX_KEY, AGENT_WAITING_KEY):
        raw = values.get(key)
        kept = json.loads(raw) if isinstance(raw, str) else None
        payload = _signing.unverified_payload(kept) if isinstance(kept, str) else \
            json.dumps(kept) if isinstance(kept, dict) else None
        if payload is not None:
            values[key] = json.dumps(_signing.sign(payload, key=_PROCESS_KEY, purpose=SEALED))


async def pending_approvals(handler_or_ctx: Any) -> list[ApprovalRequired]:
    """The approval requests a (restored) run is waiting on, as the events to show a reviewer.

    Pass the handler of a running run, or a context from :func:`load_context` before it is run.
    A restored context is read from its snapshot rather than through ``ctx.store``, so nothing is
    unpickled or re-serialized before the run is resumed.
    """
    ctx = getattr(handler_or_ctx, "ctx", None)
    if ctx is not None:
        tables = {key: await ctx.store.get(key, default=None) for key in _TABLES}
    else:
        tables = _snapshot_tables(handler_or_ctx.to_dict())
    requests = [ApprovalRequest.model_validate(v) for key in (PENDING_KEY, AGENT_PENDING_KEY)
                for v in (tables.get(key) or {}).values()]
    # AIRSWorkflow's own requests (input / answer approvals) sit next to the guarded tools' ones (its agent's
    # tools' requests are kept as AGENT_PENDING_KEY while it waits)
    requests += [ApprovalRequest.model_validate(v["request"]) for v in (tables.get(FLOW_PENDING_KEY) or {}).values()]
    return [ApprovalRequired.from_request(r) for r in requests]


_TABLES = (PENDING_KEY, AGENT_PENDING_KEY, FLOW_PENDING_KEY)


def _snapshot_tables(data: dict[str, Any]) -> dict[str, Any]:
    state = data.get("state") or {}
    values = (state.get("state_data") or {}).get("_data") or {}
    out: dict[str, Any] = {}
    for key in _TABLES:
        raw = values.get(key)
        # our values are plain JSON, which JsonPickleSerializer stores as JSON text (never as a pickle)
        out[key] = json.loads(raw) if isinstance(raw, str) else raw
    return out


def _preload_tokenizer() -> None:
    """Agent memory pickles LlamaIndex's tiktoken tokenizer. Unpickling it in a fresh process asks
    tiktoken for the encoding, which downloads it unless LlamaIndex has already loaded it from the copy
    bundled in the package; load it first so a restore works offline."""
    try:
        from llama_index.core.utils import get_tokenizer

        get_tokenizer()
    except Exception:  # noqa: S110 - without tiktoken there is nothing to preload; the load reports the rest
        pass
