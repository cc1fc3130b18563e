"""Overhead of AIRSMiddleware on a scripted create_agent run (L1 only, audit recorder on).

The model is scripted and takes ``--sleep-ms`` (20 ms) per call; the agent makes ``--steps`` (10)
tool calls, one per turn, then answers. The same run is timed bare and with
``AIRSMiddleware(Shield.default())`` in the same process, alternating, and the medians compared.

A third agent, timed in the same rotation, carries a *pass-through* middleware: the same hooks and
state keys as ``AIRSMiddleware`` and the same kind of state writes (the model node's ``Command``, a
``Command`` per tool result), but no checks, audit or ledger. Its ratio is LangGraph's own share of
the overhead, which any middleware that keeps state pays.

    .venv/bin/python benchmarks/bench_langchain.py [--json] [--steps 10] [--runs 7] [--audit-file] [--async]

Each round runs the three agents once, starting with a different one each round. Besides the ratio of
the medians, the bench reports the median of the per-round ratios (each guarded run over the bare run
of its round) with a 95 % bootstrap interval: the machine's speed drifts during a session, and pairing
cancels most of that drift.

``--async`` runs ``ainvoke`` with an async model (the path LangGraph servers take). ``--busy-model``
makes the scripted model spin for its 20 ms instead of sleeping, so the CPU never idles between steps.
``--json`` prints one object: ``bare_ms``, ``guarded_ms``, ``ratio`` (of the medians), ``paired_ratio``
and ``paired_ratio_ci95``, ``best_ratio`` (of the fastest runs, the convention of
``bench_llamaindex.py``), ``passthrough_ratio`` and ``passthrough_paired_ratio``, ``added_ms_per_step``,
``steps``, ``mode``, ``model``, ``replayed_ms_per_step`` (the guarded run's decisions replayed back to
back on the same shield, caches warm: the work itself, without the framework around it),
``replayed_cold_ms_per_step`` (the same with the CPU caches flushed before each decision, as the framework's
own work between two decisions flushes them).
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
from airs_plugins._bench import paired_ratio, rotated
from airs_plugins.langchain import AIRSAgentState, AIRSMiddleware

QUESTION = "Summarise the handbook on ten topics."


@tool
def lookup(topic: str) -> str:
    """Look a topic up in the handbook."""
    return f"The handbook section on {topic} says to file the form within five working days."


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class SlowScriptedModel(FakeMessagesListChatModel):
    """Answers by turn number after sleeping like a remote model would (``asyncio.sleep`` when async).

    With ``busy`` it spins instead, holding the CPU the whole time (a model computed in-process).
    """

    busy: bool = False

    def bind_tools(self, tools: Any, **kwargs: Any) -> SlowScriptedModel:
        return self

    def _answer(self, messages: Any) -> ChatResult:
        turn = sum(isinstance(m, AIMessage) for m in messages)
        return ChatResult(generations=[ChatGeneration(message=self.responses[min(turn, len(self.responses) - 1)])])

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        (_spin if self.busy else time.sleep)(self.sleep or 0.0)
        return self._answer(messages)

    async def _agenerate(self, messages: Any, stop: Any = None, run_manager: Any = None,
                         **kwargs: Any) -> ChatResult:
        if self.busy:
            _spin(self.sleep or 0.0)
        else:
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


def make_agent(steps: int, sleep_s: float, shield: Shield | None, *, passthrough: bool = False,
               busy: bool = False) -> Any:
    model = SlowScriptedModel(responses=script(steps), sleep=sleep_s, busy=busy)
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


_SWEEP = bytearray(64 * 1024 * 1024)


def _evict_caches() -> None:
    """Copy 64 MB: what the framework's own work between two decisions does to the CPU caches."""
    bytes(_SWEEP)


def replay_ms_per_step(shield: Shield, steps: int, repeats: int = 200, *, cold: bool = False) -> float:
    """The guarded run's decisions (input, each call and its result, the answer) replayed back to back:
    what they cost with the CPU caches warm, for comparison with ``added_ms_per_step``. ``cold``: the caches
    are flushed before each decision (not timed), as the framework's work between two decisions does."""
    calls = script(steps)
    results = [lookup.invoke(turn.tool_calls[0]["args"]) for turn in calls[:-1]]  # the tools are not timed
    spent = [0.0]

    def timed(check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if cold:
            _evict_caches()
        t0 = time.perf_counter()
        out = check(*args, **kwargs)
        spent[0] += time.perf_counter() - t0
        return out.context

    def one() -> None:
        ctx = timed(shield.check_input, QUESTION, run_id="replay")
        for turn, result in zip(calls[:-1], results, strict=True):
            call = turn.tool_calls[0]
            ctx = timed(shield.check_tool_call, call["name"], call["args"], context=ctx, tool_call_id=call["id"])
            ctx = timed(shield.check_tool_result, call["name"], result, context=ctx, tool_call_id=call["id"])
        timed(shield.check_output, str(calls[-1].content), context=ctx)

    for _ in range(3 if cold else 20):
        one()
    times = []
    for _ in range(repeats):
        spent[0] = 0.0
        one()
        times.append(spent[0] * 1000)
    return statistics.median(times) / steps


def measure(steps: int = 10, runs: int = 7, sleep_ms: float = 20.0, audit_file: bool = False,
            use_async: bool = False, busy_model: bool = False) -> dict[str, Any]:
    """Wall times of the bare, pass-through and guarded agents, in rounds of one run each, in one process."""
    tmp = Path(tempfile.mkdtemp(prefix="airs-bench-"))
    shield = Shield.default(audit=tmp / "audit.db") if audit_file else Shield.default()
    agents = {"bare": make_agent(steps, sleep_ms / 1000, None, busy=busy_model),
              "passthrough": make_agent(steps, sleep_ms / 1000, None, passthrough=True, busy=busy_model),
              "guarded": make_agent(steps, sleep_ms / 1000, shield, busy=busy_model)}
    wall: dict[str, list[float]] = {name: [] for name in agents}
    cpu: dict[str, list[float]] = {name: [] for name in agents}

    async def rotate_async() -> None:
        for name, agent in agents.items():
            await one_run_async(agent, f"warm-{name}")
        for i in range(runs):
            for name in rotated(list(agents), i):
                wall[name].append(await one_run_async(agents[name], f"{name}-{i}", cpu[name]))

    if use_async:
        asyncio.run(rotate_async())
    else:
        for name, agent in agents.items():
            one_run(agent, f"warm-{name}")
        for i in range(runs):
            for name in rotated(list(agents), i):
                wall[name].append(one_run(agents[name], f"{name}-{i}", cpu[name]))
    b, g, p = (statistics.median(wall[n]) for n in ("bare", "guarded", "passthrough"))
    # CPU time is much less sensitive than wall time to other processes on a busy machine
    added_cpu = (statistics.median(cpu["guarded"]) - statistics.median(cpu["bare"])) / steps
    paired = paired_ratio(wall["bare"], wall["guarded"])
    paired_pt = paired_ratio(wall["bare"], wall["passthrough"])
    return {"bare_ms": round(b, 2), "guarded_ms": round(g, 2), "ratio": round(g / b, 4),
            "paired_ratio": paired["median"], "paired_ratio_ci95": paired["ci95"],
            "passthrough_paired_ratio": paired_pt["median"], "passthrough_paired_ratio_ci95": paired_pt["ci95"],
            "best_ratio": round(min(wall["guarded"]) / min(wall["bare"]), 4),
            "passthrough_ms": round(p, 2), "passthrough_ratio": round(p / b, 4),
            "added_ms_per_step": round((g - b) / steps, 3), "steps": steps, "runs": runs,
            "added_cpu_ms_per_step": round(added_cpu, 3), "mode": "ainvoke" if use_async else "invoke",
            "model": "busy" if busy_model else "sleep",
            "model_sleep_ms": sleep_ms, "audit": "sqlite" if audit_file else "memory",
            "audit_records": sum(1 for _ in shield.recorder.records()),
            "replayed_ms_per_step": round(replay_ms_per_step(shield, steps), 3),
            "replayed_cold_ms_per_step": round(replay_ms_per_step(shield, steps, 15, cold=True), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sleep-ms", type=float, default=20.0)
    parser.add_argument("--audit-file", action="store_true", help="audit to a SQLite file instead of memory")
    parser.add_argument("--async", dest="use_async", action="store_true", help="time ainvoke instead of invoke")
    parser.add_argument("--busy-model", action="store_true",
                        help="the scripted model spins instead of sleeping (the CPU never idles)")
    args = parser.parse_args(argv)
    result = measure(args.steps, args.runs, args.sleep_ms, args.audit_file, args.use_async, args.busy_model)
    if args.json:
        print(json.dumps(result))
    else:
        lo, hi = result["paired_ratio_ci95"]
        plo, phi = result["passthrough_paired_ratio_ci95"]
        print(f"create_agent ({result['mode']}), {result['steps']} tool steps, model {args.sleep_ms:.0f} ms/call "
              f"({'spinning' if args.busy_model else 'sleeping'}), median of {result['runs']} runs, "
              f"audit {result['audit']}")
        print(f"  bare          {result['bare_ms']:9.2f} ms")
        print(f"  pass-through  {result['passthrough_ms']:9.2f} ms   ratio {result['passthrough_ratio']:.3f}x, "
              f"paired {result['passthrough_paired_ratio']:.3f}x [95% {plo:.3f}-{phi:.3f}] "
              "(LangGraph's share: same hooks, state keys and state writes, no AIRS work)")
        print(f"  guarded       {result['guarded_ms']:9.2f} ms   ratio {result['ratio']:.3f}x, "
              f"paired {result['paired_ratio']:.3f}x [95% {lo:.3f}-{hi:.3f}] (target <= 1.05x)")
        print(f"                +{result['added_ms_per_step']:.3f} ms per tool step "
              f"(+{result['added_cpu_ms_per_step']:.3f} ms CPU); best of each: {result['best_ratio']:.3f}x")
        print(f"  the same decisions replayed back to back: {result['replayed_ms_per_step']:.3f} ms per tool step "
              f"(warm caches), {result['replayed_cold_ms_per_step']:.3f} ms with the caches flushed before each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
