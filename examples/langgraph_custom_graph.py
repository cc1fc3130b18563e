"""A hand-built LangGraph ``StateGraph`` secured with the AIRS nodes in one line: ``secure_graph``.

``secure_graph`` turns ``model → tools`` into ``model → guard → approval → SecureToolNode``: the guard
decides every tool call without side effects, the approval node pauses for the calls that need a
human, and SecureToolNode enforces the recorded decisions (and refuses any call without one). A
judge node grades the final answer. Runs offline with a scripted model.

    .venv/bin/python examples/langgraph_custom_graph.py
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.types import Command

from airs_plugins import Shield
from airs_plugins.langgraph import AIRSGraphState, judge_node, judge_route, secure_graph

ran: list[str] = []


@tool
def list_files(path: str) -> str:
    """List files in a folder."""
    ran.append(f"list_files {path}")
    return "a.txt b.txt"


@tool
def delete_files(path: str) -> str:
    """Delete every file in a folder."""
    ran.append(f"delete_files {path}")
    return "deleted"


@tool
def archive(path: str) -> str:
    """Archive a folder."""
    ran.append(f"archive {path}")
    return "archived"


class ScriptedModel(FakeMessagesListChatModel):
    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        return self

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        turn = sum(isinstance(m, AIMessage) for m in messages)
        return ChatResult(generations=[ChatGeneration(message=self.responses[min(turn, len(self.responses) - 1)])])


model = ScriptedModel(responses=[
    AIMessage("", tool_calls=[{"name": "list_files", "args": {"path": "/data"}, "id": "c1"},
                              {"name": "delete_files", "args": {"path": "/data"}, "id": "c2"},
                              {"name": "archive", "args": {"path": "/data"}, "id": "c3"}]),
    AIMessage("Listed and archived /data; deleting was not allowed."),
])


def call_model(state: AIRSGraphState) -> dict[str, Any]:
    return {"messages": [model.invoke(state["messages"])]}


shield = Shield.from_policy({"tools": {
    "list_files": {"side_effect": "read", "risk_tier": "LOW"},
    "delete_files": {"allow": False},
    "archive": {"side_effect": "write", "require_approval": True},
}})

# the graph you already have ...
builder = StateGraph(AIRSGraphState)
builder.add_node("model", call_model)
builder.add_node("tools", ToolNode([list_files, delete_files, archive]))
builder.add_node("judge", judge_node(shield))
builder.add_edge(START, "model")
builder.add_conditional_edges("model", tools_condition, {"tools": "tools", END: "judge"})
builder.add_edge("tools", "model")
builder.add_conditional_edges("judge", judge_route, {"retry": "model", "human": END, "end": END})
# ... secured in one line
graph = secure_graph(builder, shield).compile(checkpointer=InMemorySaver())

config = {"configurable": {"thread_id": "files-1"}}
out = graph.invoke({"messages": [HumanMessage("Clean up /data")]}, config)
(pending,) = out["__interrupt__"]
print("paused for:", pending.value["tool_name"], pending.value["tool_args"], "-", pending.value["reason"])
out = graph.invoke(Command(resume={"type": "approve", "reviewer": "ops@example.com"}), config)
for m in out["messages"]:
    if getattr(m, "tool_call_id", None):
        print(f"{m.tool_call_id}: {m.status:7} {m.content[:80]}")
print("executed:", ran)
print("answer:", out["messages"][-1].content)
print("audit chain:", shield.recorder.verify())
assert ran == ["list_files /data", "archive /data"], ran
