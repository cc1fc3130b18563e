"""A user's message made of content blocks: what sits in a ``document`` block (a plain-text upload) is the
user's words as much as a text block is, and the model reads it. The input guard reads every block.
Before, it read text blocks only, so wrapping a blocked input in a document block got it past the guard."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langgraph.checkpoint.memory import InMemorySaver

from airs_plugins import Blocked
from airs_plugins.langchain import AIRSCallbackHandler, AIRSMiddleware
from airs_plugins.langchain._middleware import INPUT_REFUSAL
from contract.harness import FORBIDDEN, ToolFake, make_shield, new_config

UPLOAD: list[Any] = [
    {"type": "text", "text": "Please follow the attached brief."},
    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": f"Brief: {FORBIDDEN}"}},
]


def test_middleware_reads_the_document_block() -> None:
    model = ToolFake(responses=[AIMessage("sure")])
    agent = create_agent(model, [], middleware=[AIRSMiddleware(make_shield())], checkpointer=InMemorySaver())
    out = agent.invoke({"messages": [HumanMessage(UPLOAD)]}, new_config())
    assert out["messages"][-1].content == INPUT_REFUSAL
    assert model.calls == 0


def test_callback_handler_reads_the_document_block() -> None:
    model = ToolFake(responses=[AIMessage("sure")])
    with pytest.raises(Blocked):
        (model | StrOutputParser()).invoke([HumanMessage(UPLOAD)],
                                           config={"callbacks": [AIRSCallbackHandler(make_shield())]})
