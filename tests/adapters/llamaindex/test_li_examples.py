"""The LlamaIndex examples and the `airs demo` scenario run offline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("script", "expect"), [
    ("llamaindex_agent.py", "Sent: [{'to': 'boss@corp.example', 'body': 'Q3 revenue is up 4%.'}]"),
    ("llamaindex_multi_agent.py", "Transfers: [{'iban': 'DE89370400440532013000', 'amount_eur': 1200}]"),
])
def test_example_runs_offline(script: str, expect: str) -> None:
    """Each example exits 0 and prints the outcome its docstring promises."""
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert expect in proc.stdout
    assert "[refused]" in proc.stdout


def test_demo_scenario(tmp_path: Path) -> None:
    """The `airs demo` LlamaIndex scenario completes and leaves a verified audit trail."""
    from airs_plugins.audit import verify
    from airs_plugins.llamaindex._demo import run_demo

    lines: list[str] = []
    run_demo(lines.append, tmp_path)
    text = "\n".join(lines)
    assert "paused for approval: send_email" in text
    assert "send_email ran exactly once" in text
    assert verify(tmp_path / "audit_li.db").ok
