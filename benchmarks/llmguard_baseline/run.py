"""LLM Guard rule scanners (Regex, BanSubstrings, InvisibleText, Secrets) on the inputs bench_l1 sends.

Runs inside ``benchmarks/.venv-llmguard`` (see setup.sh). Reads a JSON list of texts on stdin and prints
``{"name": [latency_ms per text per repeat…]}`` as JSON. ``--check`` only imports the scanners.

The scanners are the ones LLM Guard documents as rule based. Their configuration mirrors what our suite
looks for: Regex with LLM Guard's own default-style credential/PII patterns, BanSubstrings with
override phrases, InvisibleText, Secrets (detect-secrets plugins, LLM Guard's defaults).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import time
import types
from pathlib import Path


def _load_scanners() -> dict[str, object]:
    spec = importlib.util.find_spec("llm_guard")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm_guard is not installed in this interpreter")
    root = Path(next(iter(spec.submodule_search_locations)))
    # stub the package __init__s so only the four rule scanners (and their own imports) load
    for name, path in (("llm_guard", root), ("llm_guard.input_scanners", root / "input_scanners")):
        mod = types.ModuleType(name)
        mod.__path__ = [str(path)]
        sys.modules[name] = mod
    regex = importlib.import_module("llm_guard.input_scanners.regex")
    ban = importlib.import_module("llm_guard.input_scanners.ban_substrings")
    invisible = importlib.import_module("llm_guard.input_scanners.invisible_text")
    secrets = importlib.import_module("llm_guard.input_scanners.secrets")
    patterns = [
        r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}",
        r"\b(?:\d[ -]*?){13,16}\b",
        r"\b\d{3}-\d{2}-\d{4}\b",
        r"\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b",
        r"\bAKIA[0-9A-Z]{16}\b",
        r"\bghp_[A-Za-z0-9]{36}\b",
        r"Bearer [A-Za-z0-9\-._~+/]+=*",
    ]
    substrings = ["ignore all previous instructions", "ignore previous instructions", "disregard the above",
                  "you are now dan", "developer mode", "reveal your system prompt", "system prompt",
                  "do anything now", "jailbreak"]
    return {
        "Regex": regex.Regex(patterns=patterns, is_blocked=True, redact=True),
        "BanSubstrings": ban.BanSubstrings(substrings=substrings, match_type=ban.MatchType.STR, case_sensitive=False,
                                           redact=False, contains_all=False),
        "InvisibleText": invisible.InvisibleText(),
        "Secrets": secrets.Secrets(redact_mode=secrets.REDACT_ALL),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    import logging

    logging.disable(logging.CRITICAL)
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # the scanners log through structlog to stdout; keep stdout for the JSON
    scanners = _load_scanners()
    if args.check:
        print("llm-guard rule scanners importable:", ", ".join(scanners), file=real_stdout)
        return
    texts: dict[str, str] = json.load(sys.stdin)
    out: dict[str, dict[str, list[float]]] = {}
    for key, text in texts.items():
        for scanner in scanners.values():  # warm-up (detect-secrets builds its plugin set lazily)
            scanner.scan(text)  # type: ignore[attr-defined]
        per_scanner: dict[str, list[float]] = {name: [] for name in scanners}
        total: list[float] = []
        for _ in range(args.repeat):
            t_all = 0.0
            for name, scanner in scanners.items():
                t0 = time.perf_counter()
                scanner.scan(text)  # type: ignore[attr-defined]
                dt = (time.perf_counter() - t0) * 1000
                per_scanner[name].append(dt)
                t_all += dt
            total.append(t_all)
        out[key] = {"all": total, **per_scanner}
    json.dump(out, real_stdout)


if __name__ == "__main__":
    main()
