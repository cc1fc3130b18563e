"""Pause a guarded run, persist its context signed, restore it later (possibly in another process).

An agent context keeps its memory only under ``JsonPickleSerializer`` (``JsonSerializer`` silently
drops it), and unpickling runs code chosen by whoever wrote the blob. So the serialized context is
wrapped in an HMAC envelope (:mod:`airs_plugins._signing`) and a blob whose signature fails is refused
before anything is unpickled.

A waiter event is not re-emitted after a restore; the pending approval requests are read back from
``ctx.store`` with :func:`pending_approvals`.
"""

from __future__ import annotations

import json
from typing import Any

from llama_index.core.workflow import Context, JsonPickleSerializer

from .. import _signing
from .._decision import ApprovalRequest
from ._events import ApprovalRequired
from ._state import PENDING_KEY
from ._steps import AGENT_PENDING_KEY, FLOW_PENDING_KEY

PURPOSE = "airs_plugins.llamaindex.context/v1"


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
    return Context.from_dict(workflow, json.loads(payload), serializer=JsonPickleSerializer())


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
