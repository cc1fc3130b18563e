"""The LangChain and LangGraph output guards grade an answer against what the run's tools returned: a link
the tools never gave goes to the judge as ungrounded (``output.grounding``), one they gave does not. The
evidence is the run's context (``airs_context`` in state; the callback handler keeps its own per run)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode

from airs_plugins import Blocked, Shield
from airs_plugins.judge import UNGROUNDED_HINT
from airs_plugins.langchain import AIRSCallbackHandler, AIRSMiddleware
from airs_plugins.langchain._middleware import OUTPUT_REFUSAL
from airs_plugins.langgraph import AIRSGraphState, judge_node, judge_route, secure_graph
from contract import grounding
from contract.grounding import GROUNDED, INVENTED, ORDER_PAGE, judged_shield
from contract.harness import ToolFake, call, new_config

order_status = tool(grounding.order_status)


def script(answer: str) -> list[AIMessage]:
    return [AIMessage("", id="ai-0", tool_calls=[call("order_status", {"order": "88412"}, "c1")]),
            AIMessage(answer, id="ai-1")]


def middleware_agent(shield: Shield, answer: str) -> Any:
    return create_agent(ToolFake(responses=script(answer)), [order_status], middleware=[AIRSMiddleware(shield)],
                        checkpointer=InMemorySaver())


def graph_with_judge(shield: Shield, answer: str) -> Any:
    model = ToolFake(responses=script(answer))

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(AIRSGraphState)
    builder.add_node("model", call_model)
    builder.add_node("tools", ToolNode([order_status]))
    builder.add_node("judge", judge_node(shield, max_retries=0))
    builder.add_edge(START, "model")
    builder.add_conditional_edges("model", lambda s: "tools" if s["messages"][-1].tool_calls else "judge")
    builder.add_edge("tools", "model")
    builder.add_conditional_edges("judge", judge_route, {"retry": "model", "human": END, "end": END})
    return secure_graph(builder, shield).compile(checkpointer=InMemorySaver())


def run(graph: Any, use_async: bool) -> Any:
    payload, config = {"messages": [HumanMessage("Where is order 88412?")]}, new_config()
    return asyncio.run(graph.ainvoke(payload, config)) if use_async else graph.invoke(payload, config)


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize(("answer", "kept"), [(GROUNDED, True), (INVENTED, False)])
def test_middleware_grades_the_answer_against_the_tool_results(answer: str, kept: bool, use_async: bool) -> None:
    prompts: list[str] = []
    out = run(middleware_agent(judged_shield(prompts), answer), use_async)
    assert out["messages"][-1].content == (answer if kept else OUTPUT_REFUSAL)
    assert any(UNGROUNDED_HINT in p for p in prompts) is not kept
    if not kept:
        assert all("returns.acme" not in str(m.content) for m in out["messages"])


@pytest.mark.parametrize(("answer", "kept"), [(GROUNDED, True), (INVENTED, False)])
def test_judge_node_grades_the_answer_against_the_tool_results(answer: str, kept: bool) -> None:
    prompts: list[str] = []
    out = run(graph_with_judge(judged_shield(prompts), answer), False)
    assert out["airs_judge"]["action"] == ("allow" if kept else "block")
    assert any(UNGROUNDED_HINT in p for p in prompts) is not kept
    if not kept:
        assert all("returns.acme" not in str(m.content) for m in out["messages"])


class OrderDocs(BaseRetriever):
    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [Document(page_content=ORDER_PAGE, metadata={"source": "orders"})]


@pytest.mark.parametrize(("answer", "kept"), [(GROUNDED, True), (INVENTED, False)])
def test_callback_handler_grades_a_rag_answer_against_the_retrieved_documents(answer: str, kept: bool) -> None:
    """An existing retrieval chain, secured with the callback handler only: what the retriever returned is the
    evidence (read as documents, and again in the system message that carries them to the model), and an
    invented link aborts the chain once the judge escalates it."""
    prompts: list[str] = []
    prompt = ChatPromptTemplate.from_messages([("system", "Answer from the context: {context}"),
                                               ("human", "{question}")])
    chain = ({"context": OrderDocs(), "question": lambda q: q} | prompt
             | ToolFake(responses=[AIMessage(answer)]) | StrOutputParser())
    config = {"callbacks": [AIRSCallbackHandler(judged_shield(prompts))]}
    if kept:
        assert chain.invoke("Where is order 88412?", config=config) == answer
    else:
        with pytest.raises(Blocked) as info:
            chain.invoke("Where is order 88412?", config=config)
        assert info.value.decision.findings[-1].check == "output.grounding"
    assert any(UNGROUNDED_HINT in p for p in prompts) is not kept
