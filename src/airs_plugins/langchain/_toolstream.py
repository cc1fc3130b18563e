"""LangGraph's ``tools`` stream mode, fed the guarded result instead of the tool's raw one.

``stream(..., stream_mode="tools")`` adds a ``StreamToolCallHandler`` to the run's callbacks. It streams each
tool's run from inside that run: ``tool-started``, the pieces a tool streams itself
(``ToolRuntime.emit_output_delta``), then ``tool-finished`` with the tool's raw output, or ``tool-error`` with
the exception's raw text, all before AIRS's result guard has redacted or withheld anything. So the guarded
adapters run the tool without that handler and, once the guard has decided, hand it the events of that run
with the result AIRS answers with: ``tool-started`` and ``tool-finished`` (``tool-error``) arrive together,
after the guard, and no ``tool-output-delta`` does (the pieces are the raw output). Only a tool that ran is
reported, as LangGraph reports it: a blocked call and a result replayed from the ledger have no run to report,
and a result held for a reviewer pauses the run first (the graph's ``messages`` / ``updates`` carry them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager
from langgraph.errors import GraphBubbleUp

_HANDLER = "StreamToolCallHandler"


def _streams_tools(handler: Any) -> bool:
    return any(c.__name__ == _HANDLER for c in type(handler).__mro__)


class _Recorder(BaseCallbackHandler):
    """Stands in for the stream handler while the tool runs: keeps what its run started with, and how it
    ended, so that the events can be replayed to the real handler after the guard."""

    run_inline = True  # in order, on the tool's own thread or loop, as the handler it stands in for

    def __init__(self) -> None:
        self.run_id: uuid.UUID | None = None
        self.start: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self.raised = False
        self._parent: uuid.UUID | None = None

    def on_tool_start(self, serialized: dict[str, Any], input_str: str, *, run_id: uuid.UUID,
                      parent_run_id: uuid.UUID | None = None, **kwargs: Any) -> None:
        # the tool's own run, or a retry of it (a sibling run); a tool it runs inside is part of its output
        if self.run_id is None or parent_run_id == self._parent:
            self.run_id, self._parent, self.raised = run_id, parent_run_id, False
            self.start = ((serialized, input_str), {"parent_run_id": parent_run_id, **kwargs})

    def on_tool_error(self, error: BaseException, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        if run_id == self.run_id:
            self.raised = True


class ToolStream:
    """The ``tools`` stream handlers of one guarded call, kept off the tool's run and told afterwards."""

    def __init__(self) -> None:
        self.handlers: list[Any] = []
        self._recorder = _Recorder()

    def callbacks(self, callbacks: Any) -> Any:
        """``callbacks`` without the ``tools`` stream handlers (which are kept), plus the recorder."""
        if isinstance(callbacks, list):
            found = [h for h in callbacks if _streams_tools(h)]
            if not found:
                return callbacks
            self._keep(found)
            return [*(h for h in callbacks if not _streams_tools(h)), self._recorder]
        if isinstance(callbacks, BaseCallbackManager):
            found = [h for h in [*callbacks.handlers, *callbacks.inheritable_handlers] if _streams_tools(h)]
            if not found:
                return callbacks
            self._keep(found)
            manager = callbacks.copy()
            for handler in found:
                manager.remove_handler(handler)
            manager.add_handler(self._recorder, inherit=False)
            return manager
        return callbacks

    def config(self, config: Any) -> Any:
        """A run config whose callbacks are :meth:`callbacks`'s."""
        if not isinstance(config, Mapping) or config.get("callbacks") is None:
            return config
        return {**config, "callbacks": self.callbacks(config["callbacks"])}

    def _keep(self, found: list[Any]) -> None:
        self.handlers.extend(h for h in found if h not in self.handlers)

    def finished(self, output: Any, text: str) -> None:
        """Report the run with the answer AIRS gives: ``output`` (the guarded ToolMessage or Command), or, for
        a tool that raised, ``text`` (the guarded error) as its error."""
        self._report(output, GuardedToolError(text) if self._recorder.raised else None)

    @contextmanager
    def reporting(self) -> Iterator[None]:
        """Around the enforcement: an exception leaving it (the tool's own, raised again because the guard
        found nothing in its text) is reported as the run's error; a pause (an interrupt) is not an end."""
        try:
            yield
        except GraphBubbleUp:
            raise
        except Exception as exc:
            self._report(None, exc)
            raise

    def _report(self, output: Any, error: BaseException | None) -> None:
        start, run_id = self._recorder.start, self._recorder.run_id
        if start is None or run_id is None:  # the tool did not run (blocked, replayed, refused)
            return
        args, kwargs = start
        for handler in self.handlers:
            handler.on_tool_start(*args, run_id=run_id, **kwargs)
            if error is not None:
                handler.on_tool_error(error, run_id=run_id)
            else:
                handler.on_tool_end(output, run_id=run_id)


@contextmanager
def silenced() -> Iterator[None]:
    """No ``tool-output-delta`` writer while a guarded tool runs. LangGraph keeps the writer of the tool call
    now running in a context variable, which a tool inherits: a guarded tool inside an unguarded one (a
    guarded worker agent called as a supervisor's tool) would stream its raw pieces as the outer call's."""
    try:
        from langgraph.pregel._tools import _tool_call_writer
    except ImportError:  # a LangGraph without the tools stream mode: nothing to silence
        yield
        return
    token = _tool_call_writer.set(None)
    try:
        yield
    finally:
        _tool_call_writer.reset(token)


class GuardedToolError(Exception):
    """The error of a tool that raised, as the ``tools`` stream reports it: the text AIRS answered with."""
