"""Scripted LLMs for offline tests, examples, the demo and the benchmark.

``scripted_llm(steps)`` returns a real ``MockFunctionCallingLLM`` whose answer is chosen by how many
assistant turns the conversation already holds, not by a counter in the object. So the script picks
up where it left off when a paused run is restored in another process, and one script can drive
several agents of an ``AgentWorkflow`` that share memory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM


@dataclass(frozen=True)
class Call:
    """One tool call the scripted model makes."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """A final answer (no tool calls)."""

    text: str


Step = Call | Answer | Sequence[Call]


def call(tool: str, /, **args: Any) -> Call:
    """``call("send_email", to=..., body=...)``: the model calls ``tool`` with these arguments."""
    return Call(tool, dict(args))


def answer(text: str) -> Answer:
    return Answer(text)


def scripted_llm(steps: Sequence[Step], *, react: bool = False, delay_s: float = 0.0,
                 after: str = "Done.") -> MockFunctionCallingLLM:
    """A function-calling mock LLM that plays ``steps`` in order.

    ``react=True`` renders calls in the ReAct text format (``Thought/Action/Action Input``) for a
    ``ReActAgent``. ``delay_s`` makes every model call take that long (realistic benchmarks).
    Past the end of the script it answers ``after``.
    """
    script = list(steps)

    def respond(messages: Sequence[ChatMessage], **_: Any) -> ChatMessage:
        if delay_s:
            time.sleep(delay_s)
        turn = sum(1 for m in messages if m.role == MessageRole.ASSISTANT)
        step: Step = script[turn] if turn < len(script) else Answer(after)
        if isinstance(step, Answer):
            text = f"Thought: I can answer without using any more tools.\nAnswer: {step.text}" if react else step.text
            return ChatMessage(role=MessageRole.ASSISTANT, content=text)
        calls = [step] if isinstance(step, Call) else list(step)
        if react:
            first = calls[0]
            text = (f"Thought: I need to use a tool to help me answer the question.\nAction: {first.name}\n"
                    f"Action Input: {json.dumps(first.args)}")
            return ChatMessage(role=MessageRole.ASSISTANT, content=text)
        blocks = [ToolCallBlock(tool_call_id=f"call-{turn}-{i}", tool_name=c.name, tool_kwargs=dict(c.args))
                  for i, c in enumerate(calls)]
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=list(blocks))

    return MockFunctionCallingLLM(response_generator=respond)
