"""Build ``eval/data/instruction_prompts.jsonl``: long, instruction-heavy *benign* text.

Hard negatives for the jailbreak detectors: prompt templates and system prompts that agent frameworks
ship (LlamaIndex, LangChain) and AgentDojo's user tasks and tool descriptions. They address a model,
give it a role and standing orders, and say what it must and must not do, which is the surface of a
jailbreak without its intent. A detector that learned "long and imperative" from jailbreak corpora
flags them (see ``notes/eval-data``); this set keeps that measurable.

All three packages are MIT-licensed; each item records its package, version and module. Run in the
dev environment (``make demo`` or ``make test`` creates it, with the ``all`` and ``eval`` extras):

    .venv/bin/python tools/harvest_instruction_prompts.py
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "src" / "airs_plugins" / "eval" / "data" / "instruction_prompts.jsonl"
MIN_CHARS = 120
_PACKAGES = (("llama_index.core", "llama-index-core"), ("langchain", "langchain"), ("langchain_core", "langchain-core"))
_MODULE_HINTS = ("prompt", "agent", "chain", "summar", "question", "middleware", "selector", "refine")


def _template_texts(module: Any) -> list[str]:
    """Upper-case string constants that read like prompts, and ``.template`` strings of prompt objects."""
    found = []
    for name, value in vars(module).items():
        if isinstance(value, str) and name.isupper() and len(value) >= MIN_CHARS and " " in value:
            found.append(value)
        template = getattr(value, "template", None)
        if isinstance(template, str) and len(template) >= MIN_CHARS:
            found.append(template)
    return found


def framework_prompts() -> list[dict[str, str]]:
    items: list[dict[str, str]] = []
    for package, dist in _PACKAGES:
        root = importlib.import_module(package)
        version = importlib.metadata.version(dist)
        for info in pkgutil.walk_packages(root.__path__, package + "."):
            if not any(h in info.name for h in _MODULE_HINTS):
                continue
            try:
                module = importlib.import_module(info.name)
            except Exception as exc:  # optional integrations whose own dependencies are missing
                print(f"skipped {info.name}: {type(exc).__name__}", file=sys.stderr)
                continue
            items += [{"text": t, "source": f"{dist}=={version}:{info.name}", "style": "benign_framework_prompt"}
                      for t in _template_texts(module)]
    return items


def agentdojo_prompts() -> list[dict[str, str]]:
    from agentdojo.task_suite.load_suites import get_suite

    version = importlib.metadata.version("agentdojo")
    items: list[dict[str, str]] = []
    for name in ("banking", "slack", "travel", "workspace"):
        suite = get_suite("v1.2.2", name)
        items += [{"text": t.PROMPT, "source": f"agentdojo=={version}:{name}:{tid}", "style": "benign_agent_task"}
                  for tid, t in suite.user_tasks.items()]
        items += [{"text": tool.description, "source": f"agentdojo=={version}:{name}:tool:{tool.name}",
                   "style": "benign_tool_description"}
                  for tool in suite.tools if len(tool.description or "") >= MIN_CHARS]
    return items


def main() -> int:
    seen: set[str] = set()
    rows = []
    for item in framework_prompts() + agentdojo_prompts():
        text = item["text"].strip()
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "label": "benign", "channel": "user", "style": item["style"],
                     "source": item["source"]})
    rows.sort(key=lambda r: (r["style"], r["source"], r["text"]))
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    by_style: dict[str, int] = {}
    for row in rows:
        by_style[row["style"]] = by_style.get(row["style"], 0) + 1
    print(f"wrote {len(rows)} items to {OUT}: {by_style}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
