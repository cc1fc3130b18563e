"""AgentDojo's tool outputs as a labelled tool-channel corpus (no LLM: ground-truth calls only).

Benign items are the real outputs of every user task's ground-truth calls in the clean
environment. Attack items are the outputs of the same calls with an attack's injection in place,
kept only when the injected text is really in them (checked after normalising whitespace and YAML
escapes, see :func:`agentdojo_run.words`).
"""

from __future__ import annotations

from collections.abc import Sequence

from . import agentdojo_run as R
from .corpus import Item


def _outputs(suite_name: str, user_task: object, injections: dict[str, str]) -> list[str]:
    from agentdojo.agent_pipeline.tool_execution import tool_result_to_str
    from agentdojo.functions_runtime import FunctionsRuntime

    suite = R.suites()[suite_name]
    env = user_task.init_environment(R.load_env(suite_name, injections))  # type: ignore[attr-defined]
    runtime = FunctionsRuntime(suite.tools)
    texts: list[str] = []
    for call in user_task.ground_truth(env):  # type: ignore[attr-defined]
        result, error = runtime.run_function(env, call.function, call.args)
        if error is None:
            texts.append(tool_result_to_str(result))
    return texts


def clean_outputs(suite_names: Sequence[str] = R.SUITES) -> list[Item]:
    seen: set[str] = set()
    out: list[Item] = []
    for sname in suite_names:
        suite = R.suites()[sname]
        for ut_id, ut in suite.user_tasks.items():
            for text in _outputs(sname, ut, {}):
                if text.strip() and text not in seen:
                    seen.add(text)
                    out.append(Item(text, "benign", "tool_output", f"benign_agentdojo_{sname}",
                                    f"agentdojo-{R.BENCHMARK_VERSION}:{sname}/{ut_id}"))
    return out


def injected_outputs(suite_names: Sequence[str] = R.SUITES, attack_names: Sequence[str] | None = None,
                     *, per_suite: int | None = None) -> list[Item]:
    """For each attack: every user task once, against the suite's injection tasks in turn."""
    attacks = list(attack_names) if attack_names is not None else R.all_attacks()
    seen: set[str] = set()
    out: list[Item] = []
    for sname in suite_names:
        suite = R.suites()[sname]
        inj_ids = list(suite.injection_tasks)
        for aname in attacks:
            attack = R._attack(aname, suite)
            for i, (ut_id, ut) in enumerate(list(suite.user_tasks.items())[:per_suite]):
                inj = suite.get_injection_task_by_id(inj_ids[i % len(inj_ids)])
                injections = attack.attack(ut, inj)
                if not injections:
                    continue
                marker = R.InjectionMarker.of(next(iter(injections.values())),
                                              None if attack.is_dos_attack else inj.GOAL)
                for text in _outputs(sname, ut, injections):
                    if text not in seen and marker.seen_in(text):
                        seen.add(text)
                        out.append(Item(text, "attack", "tool_output", f"agentdojo_{aname}",
                                        f"agentdojo-{R.BENCHMARK_VERSION}:{sname}/{ut_id}/{inj.ID}"))
    return out
