"""``AIRSNodePostprocessor``: the retrieved nodes of a query or chat engine, decided before the LLM reads them.

A query engine (``index.as_query_engine``), a context chat engine, or any retriever pipeline that runs node
postprocessors hands the retrieved text straight to the LLM that writes the answer. An agent's ``guard_tools`` sees
that answer only after it was written, by a model that may already have followed an instruction planted in a
document. As the last postprocessor, this one decides each node as retrieved content (``Shield.check_retrieved``):
an injected node is withheld (its text replaced by a notice, or the node dropped), a redacted one is redacted.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator
from typing import Any, Literal

from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode
from pydantic import ConfigDict, Field

from .._context import is_suppressed
from .._decision import Decision, RunContext, Subject
from .._shield import Shield, adrive, drive


class AIRSNodePostprocessor(BaseNodePostprocessor):
    """Decides every retrieved node as untrusted content before the engine's LLM reads it.

    ``on_block``: ``"withhold"`` (default) keeps the node, its text replaced by a notice that says why, so the
    answer can say a source was withheld; ``"drop"`` removes it. The text decided is what the LLM is shown (the node's
    content with the metadata the LLM sees), so an instruction hidden in metadata is read too; a node that is
    rewritten keeps its metadata for citations but no longer shows it to the LLM (the decided text already does).
    The nodes of one query share a run context, so that the decisions see what was read before them.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    shield: Shield = Field(exclude=True)
    on_block: Literal["withhold", "drop"] = "withhold"
    source: str | None = None
    """The source named in the decisions; by default a node's ``metadata["source"]`` or ``file_name``, else
    ``"retriever"``."""

    def __init__(self, shield: Shield, **kwargs: Any) -> None:
        super().__init__(shield=shield, **kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "AIRSNodePostprocessor"

    def _source(self, node: Any) -> str:
        metadata = getattr(node, "metadata", None) or {}
        return self.source or str(metadata.get("source") or metadata.get("file_name") or "retriever")

    def _kept(self, scored: NodeWithScore, d: Decision, text: str) -> NodeWithScore | None:
        passed = d.released(text)
        if passed == text:
            return scored
        if passed is None:
            if self.on_block == "drop":
                return None
            passed = f"[AIRS withheld a retrieved passage: {d.reason or 'unsafe content'}]"
        node = scored.node
        metadata = dict(getattr(node, "metadata", None) or {})
        rewritten = TextNode(id_=node.node_id, text=passed, metadata={**metadata, "airs_action": d.action.value},
                             excluded_llm_metadata_keys=[*metadata, "airs_action"])
        return NodeWithScore(node=rewritten, score=scored.score)

    def _decided(self, nodes: list[NodeWithScore]) -> Generator[Subject, Decision, list[NodeWithScore]]:
        """The nodes as the LLM may read them; each decision is asked for by yielding its subject (sync and async
        drive the same steps)."""
        ctx = RunContext.coerce(None, run_id=f"retrieval-{uuid.uuid4().hex}")
        out: list[NodeWithScore] = []
        for scored in nodes:
            text = scored.node.get_content(metadata_mode=MetadataMode.LLM)
            if not text.strip():
                out.append(scored)
                continue
            d = yield self.shield.subject_retrieved(text, source=self._source(scored.node), context=ctx)
            ctx = d.context
            kept = self._kept(scored, d, text)
            if kept is not None:
                out.append(kept)
        return out

    def _postprocess_nodes(self, nodes: list[NodeWithScore],
                           query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        return nodes if is_suppressed() else drive(self._decided(nodes), self.shield.check)

    async def _apostprocess_nodes(self, nodes: list[NodeWithScore],
                                  query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        return nodes if is_suppressed() else await adrive(self._decided(nodes), self.shield.acheck)
