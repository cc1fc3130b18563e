"""``guard_retriever``: every document a retriever returns is decided before a prompt or an agent reads it.

Retrieval that feeds a prompt (a ``dynamic_prompt`` middleware that puts documents in the system prompt, a
``before_model`` hook that appends them to the user's message, an LCEL RAG chain) is no tool call: without this,
``AIRSMiddleware`` never sees the documents, so an injection in one reaches the model unchecked, and a value the
model then sends out (an address it was told to mail) does not count as read from untrusted content.

A blocked document is replaced by a notice (as a tool result is); a redacted one is returned redacted. What the run
read is handed to ``AIRSMiddleware`` on the same thread, in the same graph (or, without a thread id, the same
execution of the model node): its next model call merges it into the run's context (taint), and cuts the documents
out of a human message a hook formatted them into, so that their values never pass as the user's own words.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Generator, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .._context import is_suppressed
from .._decision import Decision, RunContext, Subject
from .._shield import Shield, adrive, drive
from ._translate import context_out, current_config, merge_context, thread_id_of

INNER_TAG = "airs:guarded-retriever-inner"
"""Tag of the wrapped retriever's own run: its documents are decided by the wrapper, so the callback handler leaves
them (it decides the documents the wrapper returns)."""

_SCRATCHPAD = "__pregel_scratchpad"
_RUNTIME = "__pregel_runtime"
_BOUND = 1024
_TEXTS = 256
"""How many of a key's documents are kept for the cut (the newest): a thread whose retrievals no agent takes (a
node without AIRSMiddleware) must not grow without end."""


@dataclass
class Reads:
    """What guarded retrievers read for one thread (or one execution of a task) since its agent last looked."""

    context: dict[str, Any]
    """The decisions' ``RunContext`` dump: the observations to merge into the run's."""
    texts: list[str] = field(default_factory=list)
    """The documents as they were returned (redacted, or the notice that withheld one)."""
    holder: Any = None
    """Keeps the run control or scratchpad a key names alive, so that its id is not reused while it is a key."""


_pending: OrderedDict[Hashable, Reads] = OrderedDict()
_lock = threading.Lock()


def _key() -> tuple[Hashable, Any] | None:
    config = current_config()
    configurable = (config or {}).get("configurable") or {}
    # the graph whose step this is (its namespace without the task's own part): a hook and the model node of one
    # agent share it, two agents running at once (parallel branches, Send) do not, so neither takes, nor cuts, what
    # the other read
    graph = str(configurable.get("checkpoint_ns") or "").rpartition("|")[0]
    thread_id = thread_id_of(config)
    if thread_id is not None:
        return ("thread", thread_id, graph), None
    # no thread: the graph run (LangGraph gives each run one ``RunControl``, shared by its tasks and subgraphs),
    # so that a ``before_model`` hook's retrieval reaches the model node's middleware, a step later
    control = getattr(configurable.get(_RUNTIME), "control", None)
    if control is not None:
        return ("run", id(control), graph), control
    pad = configurable.get(_SCRATCHPAD)
    return (("task", id(pad)), pad) if pad is not None else None


def take_reads(*, keep: bool = False) -> Reads | None:
    """What the guarded retrievers of this thread (or task execution) read since the last call, handed over once.
    ``keep``: a copy, left pending (a model call that may fail and be retried takes them once it has answered)."""
    if not _pending:  # the common case, without the config lookup
        return None
    key = _key()
    if key is None:
        return None
    with _lock:
        reads = _pending.get(key[0])
        if reads is None or (key[1] is not None and reads.holder is not key[1]):
            return None
        if keep:
            return Reads(context=reads.context, texts=list(reads.texts), holder=reads.holder)
        del _pending[key[0]]
        return reads


def with_reads(ctx: RunContext, reads: Reads | None) -> RunContext:
    """``ctx`` with what ``reads`` recorded (taint only grows: see ``merge_context``)."""
    if reads is None:
        return ctx
    return RunContext.coerce(merge_context(context_out(ctx), reads.context))


def _start() -> tuple[tuple[Hashable, Any] | None, RunContext]:
    key = _key()
    with _lock:
        kept = _pending.get(key[0]) if key is not None else None
    ctx = RunContext.coerce(kept.context if kept is not None else None,
                            thread_id=thread_id_of(current_config()))
    return key, ctx


def _keep(key: tuple[Hashable, Any] | None, ctx: RunContext, texts: list[str]) -> None:
    if key is None:
        return
    with _lock:
        reads = _pending.get(key[0])
        if reads is None or (key[1] is not None and reads.holder is not key[1]):
            reads = _pending[key[0]] = Reads(context=context_out(ctx), holder=key[1])
        else:  # two retrievers of one step may run at once: what each read is kept (taint only grows)
            reads.context = merge_context(reads.context, context_out(ctx)) or reads.context
        reads.texts.extend(texts)
        del reads.texts[:-_TEXTS]
        _pending.move_to_end(key[0])
        while len(_pending) > _BOUND:  # an agent that never came to look: its reads are let go, oldest first
            _pending.popitem(last=False)


def _released(doc: Document, d: Decision) -> Document:
    text = doc.page_content
    passed = d.released(text)
    if passed == text:
        return doc
    if passed is None:
        passed = f"[AIRS withheld a retrieved document: {d.reason or 'unsafe content'}]"
    return Document(page_content=passed, metadata={**doc.metadata, "airs_action": d.action.value}, id=doc.id)


class GuardedRetriever(BaseRetriever):
    """A retriever whose documents are decided (``Shield.check_retrieved``) before anything reads them."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: BaseRetriever
    shield: Shield
    source: str | None = None
    """The source named in the decisions; by default each document's ``metadata["source"]``, else the retriever's
    name."""

    def _source(self, doc: Document) -> str:
        return self.source or str(doc.metadata.get("source") or self.retriever.get_name())

    def _decided(self, docs: list[Document]) -> Generator[Subject, Decision, list[Document]]:
        """The documents as a prompt may read them; each decision is asked for by yielding its subject (sync and
        async drive the same steps). What the run read is kept for the agent's middleware."""
        key, ctx = _start()
        out: list[Document] = []
        for doc in docs:
            d = yield self.shield.subject_retrieved(doc.page_content, source=self._source(doc), context=ctx)
            ctx = d.context
            out.append(_released(doc, d))
        _keep(key, ctx, [d.page_content for d in out])
        return out

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        docs = self.retriever.invoke(query, config={"callbacks": run_manager.get_child(), "tags": [INNER_TAG]})
        return docs if is_suppressed() else drive(self._decided(docs), self.shield.check)

    async def _aget_relevant_documents(self, query: str, *,
                                       run_manager: AsyncCallbackManagerForRetrieverRun) -> list[Document]:
        docs = await self.retriever.ainvoke(query, config={"callbacks": run_manager.get_child(), "tags": [INNER_TAG]})
        return docs if is_suppressed() else await adrive(self._decided(docs), self.shield.acheck)


def guard_retriever(retriever: BaseRetriever, shield: Shield, *, source: str | None = None) -> GuardedRetriever:
    """``retriever`` with each document it returns decided before a prompt or an agent reads it (see the module)."""
    return GuardedRetriever(retriever=retriever, shield=shield, source=source)


def cut_reads(text: str, reads: Sequence[str]) -> tuple[str, dict[str, str]]:
    """``text`` with every passage a run read (as a prompt formats it: verbatim, maybe with its outer whitespace
    trimmed) replaced by a marker, and the passage each marker stands for. Longest first, so that a document
    quoted inside another goes with it. What is left is the user's own words."""
    cut: dict[str, str] = {}
    for read in sorted({r.strip() for r in reads if r.strip()}, key=len, reverse=True):
        marker = f"[airs-read-{len(cut)}]"
        text, n = _replace_whole(text, read, marker)
        if n:
            cut[marker] = read
    return text, cut


def _replace_whole(text: str, read: str, marker: str) -> tuple[str, int]:
    """``text`` with each occurrence of ``read`` that is not part of a longer word replaced by ``marker``. A prompt
    sets a document apart from the words around it; a match inside a word is a planted fragment (a key's prefix)
    that, cut out, hid the user's value from the checks."""
    out, at, n = [], 0, 0
    start = text.find(read)
    while start >= 0:
        end = start + len(read)
        inside = (start > 0 and read[0].isalnum() and text[start - 1].isalnum()) or \
            (end < len(text) and read[-1].isalnum() and text[end].isalnum())
        if not inside:
            out += [text[at:start], marker]
            at, n = end, n + 1
        start = text.find(read, end if not inside else start + 1)
    return "".join([*out, text[at:]]), n


def put_back(words: str, cut: dict[str, str]) -> str | None:
    """The passages back in place of their markers in ``words`` (the user's words, redacted); None when a
    marker did not survive the redaction."""
    for marker, read in cut.items():
        if marker not in words:
            return None
        words = words.replace(marker, read)
    return words


def only_reads(words: str, cut: dict[str, str]) -> bool:
    """Whether nothing but passages the run read is left (no words of the user's to decide)."""
    for marker in cut:
        words = words.replace(marker, "")
    return not words.strip()
