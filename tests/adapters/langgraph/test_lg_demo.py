"""The create_agent demo scenario (wired into ``airs demo``) holds end to end."""

from __future__ import annotations

from pathlib import Path

from airs_plugins.audit import verify
from airs_plugins.langgraph._demo import run_demo


def test_demo_stops_the_hijack_and_resumes_after_restart(tmp_path: Path) -> None:
    """The injected e-mail taints the run, the hijack never runs, the approved call runs once after a
    restart, and the audit trail verifies."""
    lines: list[str] = []
    run_demo(lines.append, tmp_path)
    text = "\n".join(lines)
    assert "paused for approval: send_email to finance@example.com" in text
    assert "process restarts" in text
    assert "executed: send_email to finance@example.com (once)" in text
    assert verify(tmp_path / "audit_langgraph.db").ok
