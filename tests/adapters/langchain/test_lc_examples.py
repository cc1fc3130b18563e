"""The LangChain/LangGraph examples run offline as users would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.parametrize(("script", "expected"), [
    ("langchain_chain_callback.py", "2. blocked: block on model_output"),
    ("langchain_agent_middleware.py", "really sent: [{'to': 'finance@example.com'"),
    ("langgraph_custom_graph.py", "executed: ['list_files /data', 'archive /data']"),
    ("rag_retrieval.py", "2. the model mails an address it read in a document: paused for approval"),
])
def test_example_runs(script: str, expected: str) -> None:
    """The example exits 0 and prints the outcome it promises."""
    r = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=300,
                       check=False)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert expected in r.stdout
    assert "audit chain: OK" in r.stdout
