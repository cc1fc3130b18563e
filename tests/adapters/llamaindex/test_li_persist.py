"""Pause → signed context → a new process → resume; and the signature that guards the pickle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _li_resume import REVIEW_STEPS, review_marker
from _li_support import MARKER, Counted, make_agent, make_shield

from airs_plugins import _signing
from airs_plugins.llamaindex import SignatureError, guard_tools, load_context, save_context
from airs_plugins.llamaindex.testing import answer, call

HERE = Path(__file__).parent
KEY = "restart-test-key-0123456789abcdef"
STEPS = [call("read_inbox"), call("send_email", to="boss@corp.example", body="summary"), answer("sent it")]


async def _pause(kind: str, counted: Counted, ledger: Path, *, review: bool = False) -> tuple[str, Any]:
    shield = make_shield(ledger=ledger, marker=review_marker() if review else None)
    agent = make_agent(kind, guard_tools(counted.tools(), shield), REVIEW_STEPS if review else STEPS)
    handler = agent.run(user_msg="Summarise my mail and send it to boss@corp.example")
    async for ev in handler.stream_events():
        if type(ev).__name__ == "ApprovalRequired":
            break
    blob = save_context(handler, key=KEY)
    await handler.cancel_run()
    return blob, agent


def _resume(kind: str, blob: str, tmp_path: Path, ledger: Path, verdict: str, *,
            review: bool = False) -> dict[str, Any]:
    path = tmp_path / "ctx.json"
    path.write_text(blob)
    env = {**os.environ, "AIRS_CONTEXT_KEY": KEY,
           "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, str(HERE / "_li_resume.py"), kind, str(path), str(ledger), verdict]
    proc = subprocess.run([*argv, "review"] if review else argv,
                          capture_output=True, text=True, env=env, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


class TestRestart:
    async def test_resume_in_a_new_process_completes_with_memory(self, kind: str, tmp_path: Path) -> None:
        """A run paused for approval resumes in another process, runs the call once and keeps its memory."""
        counted = Counted()
        ledger = tmp_path / "ledger.db"
        blob, _ = await _pause(kind, counted, ledger)
        assert counted.count("read_inbox") == 1
        assert counted.count("send_email") == 0
        out = _resume(kind, blob, tmp_path, ledger, "approve")
        assert out["sent"] == [{"to": "boss@corp.example", "body": "summary"}]
        assert out["read"] == 0  # the earlier tool call was not repeated
        assert len(out["pending"]) == 1
        texts = " ".join(str(c) for _role, c in out["memory"])
        assert "Summarise my mail" in texts  # the user's message survived the restart
        assert MARKER in texts  # so did the result read before the pause
        assert "sent to boss@corp.example" in texts
        role, last = out["memory"][-1]
        assert (role, str(last).endswith("sent it")) == ("assistant", True)  # ReAct keeps its trace
        assert out["observations"][0] == "read_inbox"  # taint survived in ctx.store
        assert out["kinds"].count("tool_execution") == 1

    async def test_rejected_after_restart_never_executes(self, tmp_path: Path) -> None:
        """A rejection answered in the new process means the call never runs anywhere."""
        counted = Counted()
        ledger = tmp_path / "ledger.db"
        blob, _ = await _pause("function", counted, ledger)
        out = _resume("function", blob, tmp_path, ledger, "reject")
        assert out["sent"] == []
        assert counted.count("send_email") == 0
        assert "tool_execution" not in out["kinds"]

    @pytest.mark.parametrize("verdict", ["approve", "reject"])
    async def test_a_result_under_review_resumes_without_running_the_tool_again(self, tmp_path: Path,
                                                                                verdict: str) -> None:
        """The tool ran and its result waits for a reviewer; the answer comes in another process. Approve
        releases the recorded result to the model, reject withholds it; the tool never runs a second time."""
        counted = Counted()
        ledger = tmp_path / "ledger.db"
        blob, _ = await _pause("function", counted, ledger, review=True)
        assert counted.count("read_inbox") == 1
        out = _resume("function", blob, tmp_path, ledger, verdict, review=True)
        assert out["read"] == 0
        assert len(out["pending"]) == 1
        texts = " ".join(str(c) for _role, c in out["memory"])
        assert (MARKER in texts) == (verdict == "approve")
        assert "read it" in texts


class TestSignature:
    async def test_tampered_blob_is_refused(self, tmp_path: Path) -> None:
        """Changing one byte of the signed context makes load_context refuse it before unpickling."""
        blob, agent = await _pause("function", Counted(), tmp_path / "l.db")
        envelope = json.loads(blob)
        envelope["payload"] = envelope["payload"].replace("boss@corp.example", "evil@evil.example")
        with pytest.raises(SignatureError, match="signature check failed"):
            load_context(agent, json.dumps(envelope), key=KEY)

    async def test_wrong_key_and_unsigned_blobs_are_refused(self, tmp_path: Path) -> None:
        """A blob verified with another key, or a bare serialized context, is refused."""
        blob, agent = await _pause("function", Counted(), tmp_path / "l.db")
        with pytest.raises(SignatureError, match="key differs"):
            load_context(agent, blob, key="another-key-0123456789abcdef")
        bare = json.loads(blob)["payload"]
        with pytest.raises(SignatureError, match="no signature envelope"):
            load_context(agent, bare, key=KEY)

    def test_sign_verify_round_trip_and_purpose_binding(self) -> None:
        """The payload round-trips; a blob signed for one purpose is refused for another."""
        blob = _signing.sign("hello", key=KEY, purpose="a")
        assert _signing.verify(blob, key=KEY, purpose="a") == "hello"
        with pytest.raises(SignatureError, match="signed for 'a'"):
            _signing.verify(blob, key=KEY, purpose="b")

    def test_missing_or_short_key_is_an_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without AIRS_CONTEXT_KEY or key=, or with a short key, signing fails with a fix-it message."""
        monkeypatch.delenv(_signing.ENV_KEY, raising=False)
        with pytest.raises(SignatureError, match="AIRS_CONTEXT_KEY"):
            _signing.sign("x", purpose="a")
        with pytest.raises(SignatureError, match="at least 16"):
            _signing.sign("x", key="short", purpose="a")
        monkeypatch.setenv(_signing.ENV_KEY, KEY)
        assert _signing.verify(_signing.sign("x", purpose="a"), purpose="a") == "x"
