"""``AIRSEventHandler``: LlamaIndex instrumentation → the flight recorder. It observes; it cannot block.

The instrumentation dispatcher calls handlers inside ``except BaseException: pass``, so nothing a
handler does (raising included) can stop an LLM call or a tool; blocking is the job of
:func:`guard_tools` and :class:`AIRSWorkflow`. What it adds is an audit of what actually ran:

* ``llm_call`` – each chat/completion call (span id, LlamaIndex run id, message count, digests);
* ``tool_span`` – each agent tool step (``*.call_tool``: tool name, the LLM's tool id and the call
  identity that prefixes the guard's ``tool_call_id``) and each tool invocation (``*.acall``, whose
  span id the guard's ``tool_execution`` record carries), with duration and status;
* ``workflow_output`` – each finished workflow run.

Texts are stored as digests only. Nothing is recorded inside ``airs_plugins._context.suppressed()``
(the judge's own model calls).
"""

from __future__ import annotations

import inspect
import time
from typing import Any

from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.span import SimpleSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from llama_index_instrumentation import get_dispatcher
from pydantic import ConfigDict, PrivateAttr

from .._context import is_suppressed
from .._decision import digest_text
from .._shield import Shield
from ._translate import call_base, message_text

RUN_TAG = "llamaindex.run_id"


class AIRSSpanHandler(BaseSpanHandler[SimpleSpan]):
    """Records tool spans; installed and removed together with :class:`AIRSEventHandler`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    shield: Any = None
    _meta: dict[str, dict[str, Any]] = PrivateAttr(default_factory=dict)

    def __init__(self, shield: Shield) -> None:
        super().__init__(open_spans={}, completed_spans=[], dropped_spans=[], current_span_ids={})
        self.shield = shield

    @classmethod
    def class_name(cls) -> str:
        return "AIRSSpanHandler"

    def new_span(self, id_: str, bound_args: inspect.BoundArguments, instance: Any | None = None,
                 parent_span_id: str | None = None, tags: dict[str, Any] | None = None,
                 **kwargs: Any) -> SimpleSpan | None:
        if is_suppressed():
            return None
        meta = _tool_span_meta(id_, bound_args, instance)
        if meta is None:
            return None
        meta.update(span_id=id_, parent_span_id=parent_span_id, li_run_id=(tags or {}).get(RUN_TAG),
                    started=time.perf_counter())
        with self.lock:
            self._meta[id_] = meta
        return SimpleSpan(id_=id_, parent_id=parent_span_id, tags=tags or {})

    def prepare_to_exit_span(self, id_: str, bound_args: inspect.BoundArguments, instance: Any | None = None,
                             result: Any | None = None, **kwargs: Any) -> SimpleSpan | None:
        is_error = bool(getattr(getattr(result, "tool_output", result), "is_error", False))
        return self._close(id_, "error" if is_error else "ok", None)

    def prepare_to_drop_span(self, id_: str, bound_args: inspect.BoundArguments, instance: Any | None = None,
                             err: BaseException | None = None, **kwargs: Any) -> SimpleSpan | None:
        return self._close(id_, "dropped", err)

    def _close(self, id_: str, status: str, err: BaseException | None) -> SimpleSpan | None:
        with self.lock:
            meta = self._meta.pop(id_, None)
            span = self.open_spans.get(id_)
        if meta is None or span is None:
            return span
        started = meta.pop("started")
        body = {**meta, "status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 3)}
        if err is not None:
            body["error"] = type(err).__name__
        self.shield.record("tool_span", body)
        return span


class AIRSEventHandler(BaseEventHandler):
    """Audit LlamaIndex LLM calls, tool spans and workflow outputs through ``shield.record``.

    ``AIRSEventHandler(shield).install()`` adds it (and its :class:`AIRSSpanHandler`) to the root
    dispatcher; ``uninstall()`` removes both. Both are idempotent. Observe-only: see the module doc.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    shield: Any
    span_handler: AIRSSpanHandler | None = None
    _installed_on: Any = PrivateAttr(default=None)

    def __init__(self, shield: Shield, **kwargs: Any) -> None:
        super().__init__(shield=shield, **kwargs)
        if self.span_handler is None:
            self.span_handler = AIRSSpanHandler(shield=shield)

    @classmethod
    def class_name(cls) -> str:
        return "AIRSEventHandler"

    @property
    def installed(self) -> bool:
        return self._installed_on is not None

    def install(self) -> AIRSEventHandler:
        """Attach to the root instrumentation dispatcher (no-op when already attached)."""
        if self._installed_on is None:
            self._install(get_dispatcher())
        return self

    def uninstall(self) -> None:
        """Detach from the dispatcher (no-op when not attached)."""
        if self._installed_on is not None:
            self._uninstall(self._installed_on)

    def _install(self, dispatcher: Any) -> None:
        dispatcher.add_event_handler(self)
        dispatcher.add_span_handler(self.span_handler)
        self._installed_on = dispatcher

    def _uninstall(self, dispatcher: Any) -> None:
        dispatcher.event_handlers = [h for h in dispatcher.event_handlers if h is not self]
        dispatcher.span_handlers = [h for h in dispatcher.span_handlers if h is not self.span_handler]
        self._installed_on = None

    def handle(self, event: Any, **kwargs: Any) -> None:
        if is_suppressed():
            return
        name = event.class_name()
        base = {"span_id": event.span_id, "li_run_id": (event.tags or {}).get(RUN_TAG), "event_id": event.id_}
        if name in ("LLMChatEndEvent", "LLMCompletionEndEvent"):
            messages = getattr(event, "messages", None) or []
            response = getattr(event, "response", None)
            text = message_text(getattr(response, "message", response)) if response is not None else ""
            self.shield.record("llm_call", {
                **base, "event": name, "messages": len(messages),
                "prompt_digest": digest_text("\n".join(message_text(m) for m in messages)) if messages else None,
                "response_digest": digest_text(text), "tool_calls": _tool_call_count(response),
            })
        elif name == "workflow.output":
            output = str(getattr(event, "output", ""))
            self.shield.record("workflow_output", {**base, "output_digest": digest_text(output)})


def _tool_span_meta(id_: str, bound_args: inspect.BoundArguments, instance: Any) -> dict[str, Any] | None:
    qualname = id_.split("-", 1)[0]
    args = bound_args.arguments
    if qualname.endswith(".call_tool"):
        ev = args.get("ev")
        name, tool_id = getattr(ev, "tool_name", None), getattr(ev, "tool_id", None)
        kwargs = dict(getattr(ev, "tool_kwargs", None) or {})
        return {"kind": "agent.call_tool", "tool_name": name, "tool_id": tool_id,
                "call_identity": call_base(name, kwargs, tool_id) if name else None}
    if qualname.endswith(".acall") and hasattr(instance, "metadata"):
        return {"kind": "tool.acall", "tool_name": instance.metadata.get_name()}
    return None


def _tool_call_count(response: Any) -> int:
    message = getattr(response, "message", None)
    blocks = getattr(message, "blocks", None) or []
    return sum(1 for b in blocks if getattr(b, "block_type", None) == "tool_call")
