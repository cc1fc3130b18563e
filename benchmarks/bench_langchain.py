"""Overhead of AIRSMiddleware on a scripted create_agent run (L1 only, audit recorder on).

The model is scripted and takes ``--sleep-ms`` (20 ms) per call; the agent makes ``--steps`` (10)
tool calls, one per turn, then answers. The same run is timed bare and with
``AIRSMiddleware(Shield.default())`` in the same process, alternating, and the medians compared.

    .venv/bin/python benchmarks/bench_langchain.py [--json] [--steps 10] [--runs 7] [--audit-file]

``--json`` prints one object: ``bare_ms``, ``guarded_ms``, ``ratio`` (of the medians), ``best_ratio`` (of the
fastest runs, the convention of ``bench_llamaindex.py``), ``added_ms_per_step``, ``steps``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from airs_plugins import Shield
from airs_plugins.langchain import AIRSMiddleware


@tool
def lookup(topic: str) -> str:
    """Look a topic up in the handbook."""
    return f"The handbook section on {topic} says to file the form within five working days."


class SlowScriptedModel(FakeMessagesListChatModel):
    """Answers by turn number after sleeping like a remote model would."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> SlowScriptedModel:
        return self

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        time.sleep(self.sleep or 0.0)
        turn = sum(isinstance(m, AIMessage) for m in messages)
        return ChatResult(generations=[ChatGeneration(message=self.responses[min(turn, len(self.responses) - 1)])])


def script(steps: int) -> list[AIMessage]:
    turns = [AIMessage("", tool_calls=[{"name": "lookup", "args": {"topic": f"topic {i}"}, "id": f"call_{i}"}])
             for i in range(steps)]
    return [*turns, AIMessage("Here is what the handbook says about all ten topics.")]


def make_agent(steps: int, sleep_s: float, shield: Shield | None) -> Any:
    model = SlowScriptedModel(responses=script(steps), sleep=sleep_s)
    middleware = [AIRSMiddleware(shield)] if shield is not None else []
    return create_agent(model, [lookup], middleware=middleware, checkpointer=InMemorySaver())


def one_run(agent: Any, thread: str, cpu: list[float] | None = None) -> float:
    t0, c0 = time.perf_counter(), time.process_time()
    out = agent.invoke({"messages": [HumanMessage("Summarise the handbook on ten topics.")]},
                       {"configurable": {"thread_id": thread}, "recursion_limit": 200})
    elapsed = (time.perf_counter() - t0) * 1000
    if cpu is not None:
        cpu.append((time.process_time() - c0) * 1000)
    if out["messages"][-1].content != script(1)[-1].content:
        raise SystemExit("the scripted run did not finish")
    return elapsed


def measure(steps: int = 10, runs: int = 7, sleep_ms: float = 20.0, audit_file: bool = False) -> dict[str, Any]:
    """Median wall time of the bare and the guarded agent, alternating runs in one process."""
    tmp = Path(tempfile.mkdtemp(prefix="airs-bench-"))
    shield = Shield.default(audit=tmp / "audit.db") if audit_file else Shield.default()
    bare = make_agent(steps, sleep_ms / 1000, None)
    guarded = make_agent(steps, sleep_ms / 1000, shield)
    one_run(bare, "warm-bare")
    one_run(guarded, "warm-guarded")
    bare_ms: list[float] = []
    guarded_ms: list[float] = []
    bare_cpu: list[float] = []
    guarded_cpu: list[float] = []
    for i in range(runs):
        bare_ms.append(one_run(bare, f"bare-{i}", bare_cpu))
        guarded_ms.append(one_run(guarded, f"guarded-{i}", guarded_cpu))
    b, g = statistics.median(bare_ms), statistics.median(guarded_ms)
    # CPU time is much less sensitive than wall time to other processes on a busy machine
    added_cpu = (statistics.median(guarded_cpu) - statistics.median(bare_cpu)) / steps
    return {"bare_ms": round(b, 2), "guarded_ms": round(g, 2), "ratio": round(g / b, 4),
            "best_ratio": round(min(guarded_ms) / min(bare_ms), 4),
            "added_ms_per_step": round((g - b) / steps, 3), "steps": steps, "runs": runs,
            "added_cpu_ms_per_step": round(added_cpu, 3),
            "model_sleep_ms": sleep_ms, "audit": "sqlite" if audit_file else "memory",
            "audit_records": sum(1 for _ in shield.recorder.records())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sleep-ms", type=float, default=20.0)
    parser.add_argument("--audit-file", action="store_true", help="audit to a SQLite file instead of memory")
    args = parser.parse_args(argv)
    result = measure(args.steps, args.runs, args.sleep_ms, args.audit_file)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"create_agent, {result['steps']} tool steps, model {args.sleep_ms:.0f} ms/call, "
              f"median of {result['runs']} runs, audit {result['audit']}")
        print(f"  bare     {result['bare_ms']:9.2f} ms")
        print(f"  guarded  {result['guarded_ms']:9.2f} ms   ratio {result['ratio']:.3f}x "
              f"(target <= 1.05x), +{result['added_ms_per_step']:.3f} ms per tool step "
              f"(+{result['added_cpu_ms_per_step']:.3f} ms CPU); best of each: {result['best_ratio']:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
