"""Overhead of AIRSMiddleware on a scripted create_agent run (L1 only, audit recorder on).

The model is scripted and takes ``--sleep-ms`` (20 ms) per call; the agent makes ``--steps`` (10)
tool calls, one per turn, then answers. The same run is timed bare and with
``AIRSMiddleware(Shield.default())`` in the same process, alternating, and the medians compared.

A third agent, timed in the same rotation, carries a *pass-through* middleware: the same hooks and
state keys as ``AIRSMiddleware`` and the same kind of state writes (the model node's ``Command``, a
``Command`` per tool result), but no checks, audit or ledger. Its ratio is LangGraph's own share of
the overhead, which any middleware that keeps state pays.

    .venv/bin/python benchmarks/bench_langchain.py [--json] [--steps 10] [--runs 7] [--audit-file] [--async]

``--async`` runs ``ainvoke`` with an async model (the path LangGraph servers take). ``--json`` prints one
object: ``bare_ms``, ``guarded_ms``, ``ratio`` (of the medians), ``best_ratio`` (of the fastest runs, the
convention of ``bench_llamaindex.py``), ``passthrough_ratio``, ``added_ms_per_step``, ``steps``, ``mode``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, ExtendedModelResponse, ModelResponse
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from airs_plugins import Shield
from airs_plugins.langchain import AIRSAgentState, AIRSMiddleware

QUESTION = "Summarise the handbook on ten topics."


@tool
def lookup(topic: str) -> str:
    """Look a topic up in the handbook."""
    return f"The handbook section on {topic} says to file the form within five working days."


class SlowScriptedModel(FakeMessagesListChatModel):
    """Answers by turn number after sleeping like a remote model would (``asyncio.sleep`` when async)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> SlowScriptedModel:
        return self

    def _answer(self, messages: Any) -> ChatResult:
        turn = sum(isinstance(m, AIMessage) for m in messages)
        return ChatResult(generations=[ChatGeneration(message=self.responses[min(turn, len(self.responses) - 1)])])

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        time.sleep(self.sleep or 0.0)
        return self._answer(messages)

    async def _agenerate(self, messages: Any, stop: Any = None, run_manager: Any = None,
                         **kwargs: Any) -> ChatResult:
        await asyncio.sleep(self.sleep or 0.0)
        return self._answer(messages)


def _context() -> dict[str, Any]:
    return {"run_id": "bench", "observations": []}


class PassThrough(AgentMiddleware[AIRSAgentState, Any]):
    """AIRSMiddleware's hooks, state keys and state writes, with no AIRS work in them."""

    state_schema = AIRSAgentState

    def _model_update(self, response: Any) -> ExtendedModelResponse:
        result = response if isinstance(response, ModelResponse) else ModelResponse(result=[response])
        update = {"airs_context": _context(), "airs_decisions": {"bench": {"action": "allow"}}}
        return ExtendedModelResponse(result, Command(update=update))

    def _tool_update(self, message: Any) -> Command[Any]:
        return Command(update={"messages": [message], "airs_context": _context()})

    def wrap_model_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        return self._model_update(handler(request))

    async def awrap_model_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        return self._model_update(await handler(request))

    def wrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        return self._tool_update(handler(request))

    async def awrap_tool_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        return self._tool_update(await handler(request))


def script(steps: int) -> list[AIMessage]:
    turns = [AIMessage("", tool_calls=[{"name": "lookup", "args": {"topic": f"topic {i}"}, "id": f"call_{i}"}])
             for i in range(steps)]
    return [*turns, AIMessage("Here is what the handbook says about all ten topics.")]


def make_agent(steps: int, sleep_s: float, shield: Shield | None, *, passthrough: bool = False) -> Any:
    model = SlowScriptedModel(responses=script(steps), sleep=sleep_s)
    middleware: list[Any] = [PassThrough()] if passthrough else []
    if shield is not None:
        middleware.append(AIRSMiddleware(shield))
    return create_agent(model, [lookup], middleware=middleware, checkpointer=InMemorySaver())


class _Timer:
    """Wall and CPU time of one run; the CPU figure goes to ``cpu`` when given."""

    def __init__(self, cpu: list[float] | None) -> None:
        self.cpu = cpu
        self.t0, self.c0 = time.perf_counter(), time.process_time()

    def stop(self, out: Any) -> float:
        elapsed = (time.perf_counter() - self.t0) * 1000
        if self.cpu is not None:
            self.cpu.append((time.process_time() - self.c0) * 1000)
        if out["messages"][-1].content != script(1)[-1].content:
            raise SystemExit("the scripted run did not finish")
        return elapsed


def _inputs(thread: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"messages": [HumanMessage(QUESTION)]}, {"configurable": {"thread_id": thread}, "recursion_limit": 200}


def one_run(agent: Any, thread: str, cpu: list[float] | None = None) -> float:
    timer = _Timer(cpu)
    return timer.stop(agent.invoke(*_inputs(thread)))


async def one_run_async(agent: Any, thread: str, cpu: list[float] | None = None) -> float:
    timer = _Timer(cpu)
    return timer.stop(await agent.ainvoke(*_inputs(thread)))


def measure(steps: int = 10, runs: int = 7, sleep_ms: float = 20.0, audit_file: bool = False,
            use_async: bool = False) -> dict[str, Any]:
    """Median wall time of the bare, pass-through and guarded agents, rotating runs in one process."""
    tmp = Path(tempfile.mkdtemp(prefix="airs-bench-"))
    shield = Shield.default(audit=tmp / "audit.db") if audit_file else Shield.default()
    agents = {"bare": make_agent(steps, sleep_ms / 1000, None),
              "passthrough": make_agent(steps, sleep_ms / 1000, None, passthrough=True),
              "guarded": make_agent(steps, sleep_ms / 1000, shield)}
    wall: dict[str, list[float]] = {name: [] for name in agents}
    cpu: dict[str, list[float]] = {name: [] for name in agents}

    async def rotate_async() -> None:
        for name, agent in agents.items():
            await one_run_async(agent, f"warm-{name}")
        for i in range(runs):
            for name, agent in agents.items():
                wall[name].append(await one_run_async(agent, f"{name}-{i}", cpu[name]))

    if use_async:
        asyncio.run(rotate_async())
    else:
        for name, agent in agents.items():
            one_run(agent, f"warm-{name}")
        for i in range(runs):
            for name, agent in agents.items():
                wall[name].append(one_run(agent, f"{name}-{i}", cpu[name]))
    b, g, p = (statistics.median(wall[n]) for n in ("bare", "guarded", "passthrough"))
    # CPU time is much less sensitive than wall time to other processes on a busy machine
    added_cpu = (statistics.median(cpu["guarded"]) - statistics.median(cpu["bare"])) / steps
    return {"bare_ms": round(b, 2), "guarded_ms": round(g, 2), "ratio": round(g / b, 4),
            "best_ratio": round(min(wall["guarded"]) / min(wall["bare"]), 4),
            "passthrough_ms": round(p, 2), "passthrough_ratio": round(p / b, 4),
            "added_ms_per_step": round((g - b) / steps, 3), "steps": steps, "runs": runs,
            "added_cpu_ms_per_step": round(added_cpu, 3), "mode": "ainvoke" if use_async else "invoke",
            "model_sleep_ms": sleep_ms, "audit": "sqlite" if audit_file else "memory",
            "audit_records": sum(1 for _ in shield.recorder.records())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sleep-ms", type=float, default=20.0)
    parser.add_argument("--audit-file", action="store_true", help="audit to a SQLite file instead of memory")
    parser.add_argument("--async", dest="use_async", action="store_true", help="time ainvoke instead of invoke")
    args = parser.parse_args(argv)
    result = measure(args.steps, args.runs, args.sleep_ms, args.audit_file, args.use_async)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"create_agent ({result['mode']}), {result['steps']} tool steps, model {args.sleep_ms:.0f} ms/call, "
              f"median of {result['runs']} runs, audit {result['audit']}")
        print(f"  bare          {result['bare_ms']:9.2f} ms")
        print(f"  pass-through  {result['passthrough_ms']:9.2f} ms   ratio {result['passthrough_ratio']:.3f}x "
              "(LangGraph's share: same hooks, state keys and state writes, no AIRS work)")
        print(f"  guarded       {result['guarded_ms']:9.2f} ms   ratio {result['ratio']:.3f}x (target <= 1.05x), "
              f"+{result['added_ms_per_step']:.3f} ms per tool step (+{result['added_cpu_ms_per_step']:.3f} ms CPU); "
              f"best of each: {result['best_ratio']:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
