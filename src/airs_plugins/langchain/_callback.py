"""``AIRSCallbackHandler``: audit and fail-closed abort for existing chains and graphs."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict, deque
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import LLMResult
from langgraph.errors import GraphBubbleUp
from langgraph.types import Command

from .._context import is_guarded, is_suppressed
from .._decision import Decision, digest_text
from .._error_text import error_text
from .._errors import Blocked
from .._joined import joined
from .._shield import Shield
from ._added import returned_messages, tool_list, update_messages
from ._enforce import already_enforced, artifact_texts
from ._retriever import INNER_TAG, cut_reads, only_reads
from ._structured import output_payload
from ._tools import _Contexts
from ._translate import context_out, current_config, is_summary, message_text, system_text


class AIRSCallbackHandler(BaseCallbackHandler):
    """Audit every LLM, chat-model, tool, retriever and chain event; abort runs the Shield blocks.

    Attach it to what you already have: ``chain.invoke(x, config={"callbacks": [handler]})``,
    ``chain.with_config(callbacks=[handler])``, or the same ``config`` on a LangGraph /
    ``create_agent`` invoke (it reaches the nested model, tool and retriever runs).

    What a callback **can** do:

    * record each event (start/end/error of chains, LLMs and chat models, tools, retrievers) in the
      flight recorder with its ``run_id`` and ``parent_run_id``, and a Decision for each input,
      tool call, tool result (or error: a ``ToolNode(handle_tool_errors=True)`` shows it to the model),
      retrieved document and output (a ``with_structured_output`` answer's arguments too);
    * keep one ``RunContext`` per conversation thread (``configurable["thread_id"]``), or per root run
      without one, so content read by a tool or retriever taints the later tool calls of the same run and,
      in a thread, of its later turns and of a run resumed after a pause (in process memory: the newest
      threads are kept, as for ``guard_tools``);
    * **abort the whole run** (``enforce=True``): it raises :class:`airs_plugins.Blocked` carrying
      the Decision when an input, a tool call, a tool result, a retrieved document or an output is
      blocked, or when a tool call needs approval. This works because it is a *sync* handler with
      ``raise_error = True``; an async handler's errors are swallowed on sync paths.

    What it **cannot** do: change arguments, outputs or messages (return values are ignored), so
    it cannot redact; return a graceful "blocked" ToolMessage and let the agent carry on; pause for
    a human approval (an abort is the only outcome); stop a tool result or an output that was
    already produced, other than by aborting before the next step sees it. For those, use
    ``AIRSMiddleware``, ``guard_tools`` or the LangGraph nodes. Streaming tokens are not audited
    one by one; the final output is, when the model's run ends: with ``stream``/``astream`` the caller has
    already received every chunk of a blocked output when ``Blocked`` ends the stream (stream through
    ``AIRSMiddleware`` to get only guarded text). A ``Blocked`` raised inside a tool's run is an exception
    like any other to the code around it: a ``ToolNode(handle_tool_errors=True)`` turns it into the call's
    answer (the refusal, not the blocked text) and the run goes on. Everything is skipped inside
    ``airs_plugins._context.suppressed()``.

    Next to an enforcing layer on the same run (``AIRSMiddleware``, guarded tools, ``SecureToolNode``),
    the handler records the events but leaves the decisions to that layer: the model calls and tool calls
    it wraps get one decision each, not one from each. What such a tool runs inside (a nested chain, a
    sub-agent) is not covered by that layer, and the handler decides it as before.
    """

    run_inline = True
    MAX_READS_PER_RUN = 256
    """How many of a run's retrieved documents and tool results the handler keeps, to tell them apart from the user's
    words when a prompt formats them into the human message."""
    MAX_UNSEEN_ROOTS = 1024
    """How many runs the handler keeps state for whose root it never saw (it was attached below it, e.g.
    ``ChatModel(callbacks=[handler])`` inside a chain): their end is never seen either, so only the newest are
    kept."""

    def __init__(self, shield: Shield, *, enforce: bool = True) -> None:
        super().__init__()
        self.shield = shield
        self.enforce = enforce
        self.raise_error = enforce
        self._lock = threading.Lock()
        self._root: dict[UUID, UUID] = {}
        """The root of each run under way."""
        self._unseen: OrderedDict[UUID, None] = OrderedDict()
        """Roots the handler never saw start, least recently used first (see ``MAX_UNSEEN_ROOTS``)."""
        self._contexts = _Contexts()
        """Each run's ``RunContext``: per thread id when its root run has one, else per root run. The events of
        one run can be decided at once (a ToolNode's calls run in threads): each decision's context is merged
        into the kept one, not written over it."""
        self._threads: dict[UUID, str] = {}
        """The thread id of each root run that has one (``configurable["thread_id"]``, see ``_thread_of``): a
        conversation's later turns, and a run resumed after a pause, are new root runs, and the model still has
        what was read before in its messages."""
        self._inputs = _Texts()
        """Digests of the human messages decided as input, per thread (or per root run without one): a thread's
        model calls show the model its whole history, each earlier message decided once. A refused one is not
        kept, so it is refused again wherever it shows up next (a checkpointer keeps it in the thread)."""
        self._deciding: dict[tuple[Hashable, str], tuple[threading.Event, int]] = {}
        """The human messages being decided as input right now (scope, key), with the event set when the decision is
        taken and the thread taking it: a run in another thread that shows the model the same message (a
        ``RunnableParallel`` branch, a ``batch`` item on the same thread) waits for that decision instead of taking
        the message as decided, which let its model read a blocked input."""
        self._written = _Texts()
        """Digests of the human messages tools wrote (a ``Command``'s update), in the same scopes: they are the
        tool's output, decided with it, never the user's input (whose values the taint rules trust)."""
        self._reads: dict[UUID, deque[str]] = {}
        """Per root run, the retrieved documents and tool results it decided (the newest ``MAX_READS_PER_RUN``). A
        RAG chain's prompt formats them into the human message; there they are still what the run read, not what
        the user said (as input, their values would pass the taint rules as the user's own)."""
        self._decided: dict[UUID, tuple[str, str | None]] = {}
        """The tool runs under way whose calls this handler decided (not an enforcing layer), with the tool's name and
        the call's id: their results and errors are decided too (``on_tool_error`` is told neither)."""
        self._instructions: dict[UUID, str] = {}
        """The system prompt of each chat-model run (until it ends) and the latest of each root run (for its
        tool calls): a recital of it in an output or a call is leakage."""
        self._structured: set[UUID] = set()
        self._unrun: dict[UUID, dict[str, _Unrun]] = {}
        """Per root run, the tool calls of the model answers this handler decided that no tool has run yet, by call
        id. One the model's own node answers (``create_agent(response_format=ToolStrategy(...))``) is the structured
        answer: no tool will run to decide it, so it is decided as the output when that node ends."""
        """Chat-model runs under way asked for a structured answer (``with_structured_output``): the arguments of
        their tool calls are the answer, which no tool will run to decide."""

    # -- bookkeeping ---------------------------------------------------------------------------
    def _root_of(self, run_id: UUID, parent_run_id: UUID | None, metadata: Mapping[str, Any] | None = None) -> UUID:
        with self._lock:
            if parent_run_id is None:
                root = run_id
            elif parent_run_id in self._root:
                root = self._root[parent_run_id]
            else:  # attached below the root: the parent stands in for it
                root = self._unseen_root(parent_run_id)
            self._root[run_id] = root
            if root in self._threads:
                return root
        thread_id = _thread_of(metadata)
        with self._lock:
            if thread_id is not None and root not in self._threads:
                self._threads[root] = thread_id
        return root

    def _unseen_root(self, root: UUID) -> UUID:
        self._unseen[root] = None
        self._unseen.move_to_end(root)
        while len(self._unseen) > self.MAX_UNSEEN_ROOTS:
            self._drop(next(iter(self._unseen)))
        return root

    def _audit(self, event: str, run_id: UUID, parent_run_id: UUID | None, **body: Any) -> None:
        self.shield.record("callback", {"event": event, "run_id": str(run_id),
                                        "parent_run_id": str(parent_run_id) if parent_run_id else None, **body})

    def _decide(self, root: UUID, method: str, *args: Any, **kwargs: Any) -> Decision:
        with self._lock:
            thread_id = self._threads.get(root)
        ctx = self._contexts.get(thread_id, root).model_copy(update={"run_id": root.hex})
        decision: Decision = getattr(self.shield, method)(*args, context=ctx, **kwargs)
        self._contexts.put(thread_id, root, context_out(decision.context))
        if self.enforce and (decision.blocked or decision.needs_approval):
            raise Blocked(decision)
        return decision

    def _scope(self, root: UUID) -> Hashable:
        """Where the texts a run decided are kept: its thread, when it has one, else the root run (lock held)."""
        thread_id = self._threads.get(root)
        return ("thread", thread_id) if thread_id is not None else root

    def _input_once(self, root: UUID, message: HumanMessage | str) -> None:
        """Decide a human message once in its scope: as the user's input, or, for a conversation summary, as the
        untrusted content it is (written by a model that read the whole conversation, tool results included; as
        input its values would pass the taint rules as the user's own). A message another thread is deciding is
        waited for: its outcome is this one's (refused, it is decided again here, and refused again)."""
        text = message if isinstance(message, str) else message_text(message, every_block=True)
        summary = not isinstance(message, str) and is_summary(message)
        digest = digest_text(text)
        key = ("summary:" if summary else "") + digest
        me = threading.get_ident()
        while True:
            with self._lock:
                scope = self._scope(root)
                if self._written.has(scope, digest):
                    return
                pending = self._deciding.get((scope, key))
                if pending is None or pending[1] == me:  # the same thread: a decision that re-enters the handler
                    if not self._inputs.add(scope, key):
                        return
                    done = threading.Event()
                    self._deciding[(scope, key)] = (done, me)
                    words, cut = (text, {}) if summary else cut_reads(text, self._reads.get(root, ()))
                    break
            pending[0].wait()
        try:
            if summary:
                self._decide(root, "check_retrieved", text, source="summarization")
            elif not only_reads(words, cut):  # a message that is all content the run read was decided when it was read
                self._decide(root, "check_input", words)
        except BaseException:
            with self._lock:
                self._inputs.discard(scope, key)
            raise
        finally:
            with self._lock:
                if self._deciding.get((scope, key), (None,))[0] is done:
                    del self._deciding[(scope, key)]
            done.set()

    def _note_read(self, root: UUID, text: str) -> None:
        if text.strip():
            with self._lock:
                self._reads.setdefault(root, deque(maxlen=self.MAX_READS_PER_RUN)).append(text)

    def _note_written(self, root: UUID, output: Any) -> None:
        """Keep the human messages a tool's ``Command`` (or list of them) writes as that tool's, not the user's."""
        if not (isinstance(output, Command) or tool_list(output)):
            return
        keys = [digest_text(message_text(m, every_block=True))
                for m in returned_messages(output) if isinstance(m, HumanMessage)]
        with self._lock:
            scope = self._scope(root)
            for key in keys:
                self._written.add(scope, key)

    def _forget(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        """A run ended: its entry goes, and with a root run everything kept for it."""
        with self._lock:
            self._root.pop(run_id, None)
            if parent_run_id is None:
                self._drop(run_id)

    @contextmanager
    def _starting(self, run_id: UUID, parent_run_id: UUID | None) -> Iterator[None]:
        """A run's start event, which the handler may abort: LangChain then reports no end or error for the run, so a
        root run's state goes at once (a model or tool invoked on its own, with the handler, and blocked)."""
        try:
            yield
        except BaseException:
            if parent_run_id is None:
                self._forget(run_id, None)
            raise

    def _drop(self, root: UUID) -> None:
        """Everything kept for ``root`` (called with the lock held)."""
        self._contexts.forget(root)
        self._threads.pop(root, None)
        self._inputs.forget(root)
        self._written.forget(root)
        self._reads.pop(root, None)
        self._instructions.pop(root, None)
        self._unrun.pop(root, None)
        self._unseen.pop(root, None)
        self._root = {k: v for k, v in self._root.items() if v != root}

    # -- chains --------------------------------------------------------------------------------
    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        if is_suppressed():
            return
        self._root_of(run_id, parent_run_id, kwargs.get("metadata"))
        self._audit("chain_start", run_id, parent_run_id, name=_name(serialized, kwargs))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        if is_suppressed():
            return
        self._audit("chain_end", run_id, parent_run_id)
        try:
            self._model_answered(self._root_of(run_id, parent_run_id), outputs)
        finally:
            self._forget(run_id, parent_run_id)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None,
                       **kwargs: Any) -> None:
        if is_suppressed():
            return
        self._audit("chain_error", run_id, parent_run_id, error=type(error).__name__)
        self._forget(run_id, parent_run_id)

    # -- models --------------------------------------------------------------------------------
    def on_chat_model_start(self, serialized: dict[str, Any] | None, messages: list[list[BaseMessage]], *,
                            run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        if is_suppressed():
            return
        root = self._root_of(run_id, parent_run_id, kwargs.get("metadata"))
        self._audit("chat_model_start", run_id, parent_run_id, name=_name(serialized, kwargs),
                    messages=sum(len(batch) for batch in messages))
        if is_guarded():  # AIRSMiddleware decides on this model call; deciding again would count it twice
            return
        with self._starting(run_id, parent_run_id):
            for batch in messages:
                # every human message, not the last only: the request may carry several (a history the caller
                # passes, a thread's earlier input that was refused but kept by the checkpointer)
                for message in batch:
                    if isinstance(message, HumanMessage):
                        self._input_once(root, message)
        # kept once the input passed: a run aborted at its start never ends, so nothing would drop it
        system = system_text(messages[0]) if messages else None
        with self._lock:
            if system is not None:
                self._instructions[run_id] = self._instructions[root] = system
            if _asks_structured(kwargs.get("options")):
                self._structured.add(run_id)

    def on_llm_start(self, serialized: dict[str, Any] | None, prompts: list[str], *, run_id: UUID,
                     parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        if is_suppressed():
            return
        root = self._root_of(run_id, parent_run_id, kwargs.get("metadata"))
        self._audit("llm_start", run_id, parent_run_id, name=_name(serialized, kwargs), prompts=len(prompts))
        if is_guarded():
            return
        with self._starting(run_id, parent_run_id):
            for prompt in prompts:
                self._input_once(root, prompt)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, parent_run_id: UUID | None = None,
                   **kwargs: Any) -> None:
        if is_suppressed():
            return
        root = self._root_of(run_id, parent_run_id)
        generations = [g for batch in response.generations for g in batch]
        self._audit("llm_end", run_id, parent_run_id, generations=len(generations))
        with self._lock:
            # a root model run's entry is also its root's; ``_forget`` drops it when the run ends
            system = (self._instructions.pop(run_id, None) if parent_run_id is not None
                      else self._instructions.get(run_id))
            structured = run_id in self._structured
            self._structured.discard(run_id)
        try:
            for g in generations if not is_guarded() else ():
                answers = _tool_calls(g) if structured else []
                text = _generation_text(g)
                if text.strip() or answers:
                    # text that comes with tool calls is not the answer (the output schema waits for that), unless
                    # those calls are the structured answer
                    self._decide(root, "check_output", output_payload(text, answers),
                                 interim=bool(_tool_calls(g)) and not answers, instructions=system,
                                 structured=[dict(c.get("args") or {}) for c in answers] or None)
                if not answers:
                    self._await_run(root, f"{run_id}:{id(g)}", text, system, _tool_calls(g))
        finally:
            self._forget(run_id, parent_run_id)

    def _await_run(self, root: UUID, answer: str, text: str, system: str | None,
                   calls: list[dict[str, Any]]) -> None:
        with self._lock:
            for c in calls:
                if c.get("id"):
                    self._unrun.setdefault(root, {})[str(c["id"])] = _Unrun(answer, text, dict(c.get("args") or {}),
                                                                            system)

    def _model_answered(self, root: UUID, outputs: Any) -> None:
        """Decide, as the output, the calls a run's ``outputs`` answer together with the model message that made
        them: only the model's own node does that, for a structured answer. A call answered on its own (a tool
        node's refusal of an unknown tool) is dropped."""
        with self._lock:
            unrun = self._unrun.get(root)
            if not unrun:
                return
            messages = _output_messages(outputs)
            made = {str(c.get("id")) for m in messages if isinstance(m, AIMessage) for c in m.tool_calls}
            answered = [m.tool_call_id for m in messages if isinstance(m, ToolMessage) and m.tool_call_id in unrun]
            taken = [(unrun.pop(i), i in made) for i in dict.fromkeys(answered)]
        by_answer: dict[str, list[_Unrun]] = {}
        for call, structured in taken:
            if structured:
                by_answer.setdefault(call.answer, []).append(call)
        for calls in by_answer.values():
            first = calls[0]
            args = [c.args for c in calls]
            self._decide(root, "check_output", output_payload(first.text, [{"args": a} for a in args]),
                         instructions=first.system, structured=args)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None,
                     **kwargs: Any) -> None:
        if not is_suppressed():
            self._audit("llm_error", run_id, parent_run_id, error=type(error).__name__)
            with self._lock:
                if parent_run_id is not None:
                    self._instructions.pop(run_id, None)
                self._structured.discard(run_id)
            self._forget(run_id, parent_run_id)

    # -- tools ---------------------------------------------------------------------------------
    def on_tool_start(self, serialized: dict[str, Any] | None, input_str: str, *, run_id: UUID,
                      parent_run_id: UUID | None = None, inputs: dict[str, Any] | None = None,
                      **kwargs: Any) -> None:
        if is_suppressed():
            return
        root = self._root_of(run_id, parent_run_id, kwargs.get("metadata"))
        name = _tool_name(serialized, kwargs)
        call_id = str(kwargs["tool_call_id"]) if kwargs.get("tool_call_id") else None
        self._audit("tool_start", run_id, parent_run_id, name=name, tool_call_id=call_id)
        with self._lock:
            self._unrun.get(root, {}).pop(str(call_id), None)
        args = _tool_args(inputs, input_str)
        if already_enforced(call_id or str(run_id), name, args):
            # the middleware, a guarded tool or SecureToolNode decides this call and its result (a guarded tool
            # names the run of a call that has no tool call id)
            return
        with self._lock:
            system = self._instructions.get(root)
        with self._starting(run_id, parent_run_id):
            self._decide(root, "check_tool_call", name, args, tool_call_id=call_id, instructions=system)
        with self._lock:
            self._decided[run_id] = (name, call_id)

    def on_tool_end(self, output: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                    **kwargs: Any) -> None:
        if is_suppressed():
            return
        root = self._root_of(run_id, parent_run_id)
        name = str(kwargs.get("name") or "tool")
        self._audit("tool_end", run_id, parent_run_id, name=name)
        with self._lock:
            decided = self._decided.pop(run_id, None)
        try:
            self._note_written(root, output)
            if decided is not None:
                result = message_text(output, every_block=True)
                # a content_and_artifact tool's artifact goes on to the caller (state, checkpoints, streams): its
                # strings are read with the content, as every adapter reads them
                self._decide(root, "check_tool_result", name, joined(result, artifact_texts(output))[0],
                             tool_call_id=decided[1])
                self._note_read(root, result)
        finally:
            self._forget(run_id, parent_run_id)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None,
                      **kwargs: Any) -> None:
        if is_suppressed():
            return
        root = self._root_of(run_id, parent_run_id)
        self._audit("tool_error", run_id, parent_run_id, error=type(error).__name__)
        with self._lock:
            decided = self._decided.pop(run_id, None)
        try:
            if decided is not None and _guarded_error(error):
                # the caller may turn the error into the tool's answer (``ToolNode(handle_tool_errors=True)``),
                # so its text is read by the model like a result: an injection or a secret in it aborts the same
                self._decide(root, "check_tool_result", decided[0], error_text(error), tool_call_id=decided[1])
        finally:
            self._forget(run_id, parent_run_id)

    # -- retrievers ----------------------------------------------------------------------------
    def on_retriever_start(self, serialized: dict[str, Any] | None, query: str, *, run_id: UUID,
                           parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        if is_suppressed():
            return
        self._root_of(run_id, parent_run_id, kwargs.get("metadata"))
        self._audit("retriever_start", run_id, parent_run_id, name=_name(serialized, kwargs))

    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, parent_run_id: UUID | None = None,
                         **kwargs: Any) -> None:
        if is_suppressed():
            return
        root = self._root_of(run_id, parent_run_id)
        self._audit("retriever_end", run_id, parent_run_id, documents=len(documents))
        if INNER_TAG in (kwargs.get("tags") or ()):  # decided by ``guard_retriever``, whose own run returns them
            self._forget(run_id, parent_run_id)
            return
        try:
            for doc in documents:
                source = str((getattr(doc, "metadata", None) or {}).get("source", "retriever"))
                content = str(getattr(doc, "page_content", doc))
                self._decide(root, "check_retrieved", content, source=source)
                self._note_read(root, content)
        finally:
            self._forget(run_id, parent_run_id)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None,
                           **kwargs: Any) -> None:
        if not is_suppressed():
            self._audit("retriever_error", run_id, parent_run_id, error=type(error).__name__)
            self._forget(run_id, parent_run_id)


@dataclass(frozen=True)
class _Unrun:
    """A tool call of a model answer the handler decided, which no tool has run yet."""

    answer: str
    """Which model answer made it (its calls are one structured answer)."""
    text: str
    args: dict[str, Any]
    system: str | None


def _output_messages(outputs: Any) -> list[Any]:
    """The messages a run's output writes: a state update (a mapping), a ``Command``, or a list of them (a
    ``create_agent`` node's)."""
    if isinstance(outputs, Command):
        return update_messages(outputs.update)
    if isinstance(outputs, Mapping):
        return update_messages(outputs)
    if isinstance(outputs, list) and all(isinstance(o, Command | Mapping) for o in outputs):
        return [m for o in outputs for m in _output_messages(o)]
    return []


class _Texts:
    """Digests of texts per scope (a thread id, or a root run without one). Root runs are dropped when they end;
    threads outlive their runs, so only the ``MAX_THREADS`` most recently used are kept. Callers hold the
    handler's lock."""

    MAX_THREADS = 10_000

    def __init__(self) -> None:
        self._by_scope: OrderedDict[Hashable, set[str]] = OrderedDict()

    def has(self, scope: Hashable, key: str) -> bool:
        return key in self._by_scope.get(scope, ())

    def add(self, scope: Hashable, key: str) -> bool:
        """Keep ``key``; False when it was already kept."""
        kept = self._by_scope.setdefault(scope, set())
        self._by_scope.move_to_end(scope)
        if key in kept:
            return False
        kept.add(key)
        while len(self._by_scope) > self.MAX_THREADS:
            self._by_scope.popitem(last=False)
        return True

    def discard(self, scope: Hashable, key: str) -> None:
        self._by_scope.get(scope, set()).discard(key)

    def forget(self, scope: Hashable) -> None:
        self._by_scope.pop(scope, None)


def _thread_of(metadata: Mapping[str, Any] | None) -> str | None:
    """The conversation thread of a run (``configurable["thread_id"]``): LangGraph copies it into the metadata of every
    event; an LCEL chain does not, and its steps see it in the config they run under."""
    thread_id = (metadata or {}).get("thread_id")
    if thread_id is None:
        thread_id = ((current_config() or {}).get("configurable") or {}).get("thread_id")
    return None if thread_id is None else str(thread_id)


def _name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> str:
    if kwargs.get("name"):
        return str(kwargs["name"])
    if serialized:
        if serialized.get("name"):
            return str(serialized["name"])
        ids = serialized.get("id")
        if isinstance(ids, list) and ids:
            return str(ids[-1])
    return "unknown"


def _tool_name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> str:
    """The tool's own name, which its policy is written for: a run's ``name`` is the caller's ``run_name`` when
    one is given (``tool.invoke(args, {"run_name": ...})``, ``with_config``), a label for tracing."""
    if serialized and serialized.get("name"):
        return str(serialized["name"])
    return _name(serialized, kwargs)


def _tool_args(inputs: Mapping[str, Any] | None, input_str: str) -> dict[str, Any]:
    if isinstance(inputs, Mapping):
        return dict(inputs)
    try:
        parsed = json.loads(input_str)
    except ValueError:
        return {"input": input_str}
    return dict(parsed) if isinstance(parsed, Mapping) else {"input": input_str}


def _guarded_error(error: BaseException) -> bool:
    """Whether a tool's error is text the caller may show the model: not a pause or a jump of the graph, not
    an abort (this handler's own, or an interruption of the process)."""
    return isinstance(error, Exception) and not isinstance(error, GraphBubbleUp | Blocked)


def _tool_calls(generation: Any) -> list[dict[str, Any]]:
    return [dict(c) for c in getattr(getattr(generation, "message", None), "tool_calls", None) or ()]


def _asks_structured(options: Any) -> bool:
    """Whether a chat-model run was asked for a structured answer: ``with_structured_output`` binds the schema as
    ``ls_structured_output_format``, which the model reports in its start event's ``options``."""
    return isinstance(options, Mapping) and bool(options.get("ls_structured_output_format"))


def _generation_text(generation: Any) -> str:
    message = getattr(generation, "message", None)
    if message is not None:
        return message_text(message)
    return str(getattr(generation, "text", "") or "")
