#!/usr/bin/env bash
# Build the LLM Guard baseline venv (benchmarks/.venv-llmguard) without torch/transformers:
# only the four rule scanners we compare against (Regex, BanSubstrings, InvisibleText, Secrets) are
# loaded, and they need structlog, presidio-anonymizer (TextReplaceBuilder) and bc-detect-secrets.
# The runner (run.py) loads those modules directly, bypassing llm_guard/__init__.py, which would
# import every scanner (and with them torch).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="$HERE/../.venv-llmguard"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q --no-deps "llm-guard==0.3.16"
"$VENV/bin/python" -m pip install -q "structlog>=24" "presidio-anonymizer==2.2.358" "bc-detect-secrets==1.5.43"
"$VENV/bin/python" "$HERE/run.py" --check
