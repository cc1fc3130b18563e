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

``astream_events`` (and ``astream_log``, and ``stream_mode="messages"`` for a model run inside a tool) stream
the same tool run from inside it: ``on_tool_end`` with the raw
output, ``on_tool_error`` with the raw exception. Their handler stays on the tool's run, so its start streams
as it happens, but through a stand-in that keeps the end of the tool's own run back until the guard has decided,
and then passes on the answer AIRS gives (as above: a guarded error for a tool that raised). Everything the tool
runs inside is its raw output too (``create_retriever_tool``'s retriever ends with the very documents the tool
returns, a worker agent's model streams its answer token by token): those events are kept back with the end,
and passed on, in order, only when the guard let the answer through unchanged; the chunks such a run streams
(``on_chain_stream``) are not, as they cannot be kept. A run that pauses for a reviewer after the tool ran has
its start streamed, nothing else.

A graph run inside a tool (a worker agent) streams its steps (``updates``, ``values``, ...) to the parent
graph's stream when that was asked with ``subgraphs=True``: its writes are kept back the same way, and passed
on only with an answer the guard let through unchanged.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager
from langchain_core.callbacks.manager import handle_event
from langgraph.errors import GraphBubbleUp

_HANDLER = "StreamToolCallHandler"
_GRAPH_STREAM = "__pregel_stream"
"""LangGraph's ``CONFIG_KEY_STREAM``: the parent graph's stream, which a graph run inside a node writes to."""
_EVENT_HANDLERS = frozenset({"_AstreamEventsCallbackHandler", "LogStreamCallbackHandler", "StreamMessagesHandler"})
"""Handlers that stream what runs inside a tool's run as it happens (``StreamMessagesHandler``: a worker agent's
tokens, which are the tool's raw answer)."""


def _streams_tools(handler: Any) -> bool:
    return any(c.__name__ == _HANDLER for c in type(handler).__mro__)


def _streams_events(handler: Any) -> bool:
    # a stand-in too: a guarded tool run inside another's run keeps its own end back from the outer stand-in
    return isinstance(handler, _Deferred) or any(c.__name__ in _EVENT_HANDLERS for c in type(handler).__mro__)


class _Recorder(BaseCallbackHandler):
    """Stands in for the stream handler while the tool runs: keeps what its run started with, and how it
    ended, so that the events can be replayed to the real handler after the guard."""

    run_inline = True  # in order, on the tool's own thread or loop, as the handler it stands in for

    def __init__(self) -> None:
        self.run_id: uuid.UUID | None = None
        self.start: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self.raised = False
        self.parent: uuid.UUID | None = None
        self.open = False

    def on_tool_start(self, serialized: dict[str, Any], input_str: str, *, run_id: uuid.UUID,
                      parent_run_id: uuid.UUID | None = None, **kwargs: Any) -> None:
        # the tool's own run, or a retry of it (a sibling run, once the run has ended); a tool it runs inside is
        # part of its output, a sibling too while the run is open (a tool handed the run's own ``config``)
        if self.run_id is None or (parent_run_id == self.parent and not self.open):
            self.run_id, self.parent, self.raised, self.open = run_id, parent_run_id, False, True
            self.start = ((serialized, input_str), {"parent_run_id": parent_run_id, **kwargs})

    def on_tool_end(self, output: Any, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        if run_id == self.run_id:
            self.open = False

    def on_tool_error(self, error: BaseException, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        if run_id == self.run_id:
            self.raised, self.open = True, False


class _Deferred:
    """Stands in for an event-stream handler on a guarded tool's run: passes it every event but the end of the
    tool's own run and the events of what runs inside it, which it keeps until :meth:`release` hands over the
    answer AIRS gives instead (and, when the guard changed nothing, what ran inside)."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.own = _Recorder()  # which run is the tool's own, and whether it raised
        self._end: dict[str, Any] | None = None
        self._inside: set[uuid.UUID] = set()
        """The runs started inside the tool's own run (and its retries), at any depth."""
        self._held: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        """Their events, and the tool run's own but for its start and end, in order."""

    @staticmethod
    def of(handler: Any) -> _Deferred:
        """A stand-in whose tool hooks are coroutines when the handler's are: a callback manager awaits only a
        coroutine function, and would drop the coroutine a plain function returns."""
        return _ADeferred(handler) if inspect.iscoroutinefunction(handler.on_tool_end) else _Deferred(handler)

    def __getattr__(self, name: str) -> Any:
        if name in ("handler", "own", "_inside", "_held"):  # not set yet (a copy being built): no recursion
            raise AttributeError(name)
        found = getattr(self.handler, name)
        if not name.startswith("on_") or not callable(found):
            return found
        # every other event (a chain's, a model's token, a retriever's documents, a custom event): kept when it
        # comes from inside the tool's run, as a coroutine function when the handler's is one (see ``of``)
        if inspect.iscoroutinefunction(found):
            async def held_async(*args: Any, **kwargs: Any) -> Any:
                return None if self._hold(name, args, kwargs) else await found(*args, **kwargs)
            return held_async

        def held(*args: Any, **kwargs: Any) -> Any:
            return None if self._hold(name, args, kwargs) else found(*args, **kwargs)
        return held

    def _hold(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        """Whether the event is kept: it comes from the tool's own run (a custom event it dispatched) or a run
        inside it (a sibling too while the tool's run is open: run with the ``config`` the tool was handed)."""
        run_id, parent = kwargs.get("run_id"), kwargs.get("parent_run_id")
        own = self.own.run_id
        if own is None or run_id is None:
            return False
        if run_id in self._inside or (run_id == own and not name.startswith("on_tool_")):
            pass
        elif name.endswith("_start") and run_id != own and (
                parent == own or parent in self._inside or (self.own.open and parent == self.own.parent)):
            self._inside.add(run_id)
        else:
            return False
        self._held.append((name, args, kwargs))
        return True

    def tap_output_aiter(self, run_id: uuid.UUID, output: Any) -> Any:
        if run_id in self._inside:  # a run inside the tool streams its raw output: its end is kept instead
            return output
        return self.handler.tap_output_aiter(run_id, output)

    def tap_output_iter(self, run_id: uuid.UUID, output: Any) -> Any:
        if run_id in self._inside:
            return output
        return self.handler.tap_output_iter(run_id, output)

    def _kept(self, run_id: uuid.UUID, kwargs: dict[str, Any], error: BaseException | None = None) -> bool:
        if run_id != self.own.run_id or isinstance(error, GraphBubbleUp):
            return False  # another run's event, or a pause: nothing of the tool's output in it
        self._end = {"run_id": run_id, **kwargs}
        return True

    def _passes_start(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        """Whether a tool run's start goes on to the handler now (not a tool run inside the guarded one)."""
        self.own.on_tool_start(*args, **kwargs)
        return not self._hold("on_tool_start", args, kwargs)

    def _passes_end(self, name: str, ended: Any, run_id: uuid.UUID, kwargs: dict[str, Any]) -> bool:
        """Whether a tool run's end (``on_tool_end`` with its output, ``on_tool_error`` with its error) goes on to
        the handler now: not the guarded tool's own (kept for :meth:`release`), nor one of a run inside it."""
        error = ended if name == "on_tool_error" else None
        if error is not None:
            self.own.on_tool_error(error, run_id=run_id)
        else:
            self.own.on_tool_end(ended, run_id=run_id)
        return not (self._kept(run_id, kwargs, error) or self._hold(name, (ended,), {"run_id": run_id, **kwargs}))

    def on_tool_start(self, *args: Any, **kwargs: Any) -> Any:
        return self.handler.on_tool_start(*args, **kwargs) if self._passes_start(args, kwargs) else None

    def on_tool_end(self, output: Any, *, run_id: uuid.UUID, **kwargs: Any) -> Any:
        if self._passes_end("on_tool_end", output, run_id, kwargs):
            return self.handler.on_tool_end(output, run_id=run_id, **kwargs)
        return None

    def on_tool_error(self, error: BaseException, *, run_id: uuid.UUID, **kwargs: Any) -> Any:
        if self._passes_end("on_tool_error", error, run_id, kwargs):
            return self.handler.on_tool_error(error, run_id=run_id, **kwargs)
        return None

    def release(self, output: Any, error: BaseException | None, untouched: bool = False) -> None:
        """Tell the handler how the tool's run ended, with AIRS's answer, after what ran inside the tool when the
        guard let its answer through ``untouched`` (``handle_event`` runs an async handler's coroutine on the sync
        path too)."""
        end, self._end = self._end, None
        held, self._held = self._held, []
        if end is None:  # the tool did not run, or has not ended
            return
        for name, args, kwargs in held if untouched else ():
            handle_event([self.handler], name, None, *args, **kwargs)
        if error is not None:
            handle_event([self.handler], "on_tool_error", "ignore_agent", error, **end)
        else:
            handle_event([self.handler], "on_tool_end", "ignore_agent", output, **end)


class _ADeferred(_Deferred):
    async def on_tool_start(self, *args: Any, **kwargs: Any) -> None:
        if self._passes_start(args, kwargs):
            await self.handler.on_tool_start(*args, **kwargs)

    async def on_tool_end(self, output: Any, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        if self._passes_end("on_tool_end", output, run_id, kwargs):
            await self.handler.on_tool_end(output, run_id=run_id, **kwargs)

    async def on_tool_error(self, error: BaseException, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        if self._passes_end("on_tool_error", error, run_id, kwargs):
            await self.handler.on_tool_error(error, run_id=run_id, **kwargs)


class ToolStream:
    """The stream handlers of one guarded call: the ``tools`` stream's, kept off the tool's run and told
    afterwards, and the event streams', behind stand-ins that keep the end of the run back."""

    def __init__(self) -> None:
        self.handlers: list[Any] = []
        self._recorder = _Recorder()
        self._deferred: dict[int, _Deferred] = {}
        self._graphs: dict[int, Any] = {}
        """A stand-in for the parent graph's stream (``subgraphs=True``) per stream, which a graph run inside the
        tool (a worker agent) writes its steps to: its raw answer, the raw results of its tools."""
        self._chunks: list[tuple[Any, Any]] = []
        """What those graphs wrote, with the stream it was written to, in order, until the guard decided."""

    @property
    def watched(self) -> bool:
        """Whether anything streams this call's tool events."""
        return bool(self.handlers or self._deferred or self._graphs)

    def callbacks(self, callbacks: Any) -> Any:
        """``callbacks`` without the ``tools`` stream handlers (which are kept), plus the recorder, and with
        each event-stream handler behind its stand-in."""
        if isinstance(callbacks, list):
            found = [h for h in callbacks if _streams_tools(h)]
            if not found and not any(_streams_events(h) for h in callbacks):
                return callbacks
            self._keep(found)
            return [*(self._stand_in(h) for h in callbacks if not _streams_tools(h)),
                    *([self._recorder] if found else [])]
        if isinstance(callbacks, BaseCallbackManager):
            every = [*callbacks.handlers, *callbacks.inheritable_handlers]
            found = [h for h in every if _streams_tools(h)]
            events = [h for h in every if _streams_events(h)]
            if not found and not events:
                return callbacks
            self._keep(found)
            manager = callbacks.copy()
            for handler in found:
                manager.remove_handler(handler)
            for handler in dict.fromkeys(events):  # in both lists when inheritable
                inherit = handler in callbacks.inheritable_handlers
                manager.remove_handler(handler)
                manager.add_handler(self._stand_in(handler), inherit=inherit)
            if found:
                manager.add_handler(self._recorder, inherit=False)
            return manager
        return callbacks

    def _stand_in(self, handler: Any) -> Any:
        if not _streams_events(handler):
            return handler
        return self._deferred.setdefault(id(handler), _Deferred.of(handler))

    def config(self, config: Any) -> Any:
        """A run config whose callbacks are :meth:`callbacks`'s, and whose parent graph stream (there with
        ``subgraphs=True``) keeps what a graph run inside the tool writes to it until the guard decided."""
        if not isinstance(config, Mapping):
            return config
        out = dict(config)
        if config.get("callbacks") is not None:
            out["callbacks"] = self.callbacks(config["callbacks"])
        conf = config.get("configurable")
        graph = conf.get(_GRAPH_STREAM) if isinstance(conf, Mapping) else None
        if graph is not None and isinstance(conf, Mapping):
            out["configurable"] = {**conf, _GRAPH_STREAM: self._graph_stand_in(graph)}
        return out

    def _graph_stand_in(self, graph: Any) -> Any:
        if id(graph) not in self._graphs:
            from langgraph.pregel.protocol import StreamProtocol

            self._graphs[id(graph)] = StreamProtocol(lambda chunk: self._chunks.append((graph, chunk)),
                                                     set(graph.modes))
        return self._graphs[id(graph)]

    def _release_chunks(self, untouched: bool) -> None:
        chunks, self._chunks = self._chunks, []
        for graph, chunk in chunks if untouched else ():
            graph(chunk)

    def _keep(self, found: list[Any]) -> None:
        self.handlers.extend(h for h in found if h not in self.handlers)

    def finished(self, output: Any, text: str, untouched: bool = False) -> None:
        """Report the run with the answer AIRS gives: ``output`` (the guarded ToolMessage or Command), or, for
        a tool that raised, ``text`` (the guarded error) as its error; ``untouched`` when the guard let the
        tool's answer through as it was (what ran inside the tool is then streamed too)."""
        self._release_chunks(untouched)
        for deferred in self._deferred.values():
            deferred.release(output, GuardedToolError(text) if deferred.own.raised else None, untouched)
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
            self._release_chunks(False)  # not known to be the tool's own clean error: nothing of what ran inside
            for deferred in self._deferred.values():
                deferred.release(None, exc)
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
