"""``--user-tasks`` / ``--injection-tasks`` below 1 are usage errors, not a silently different run."""

from __future__ import annotations

import pytest

from airs_plugins._cli import main

from .conftest import needs_agentdojo


@needs_agentdojo
@pytest.mark.parametrize(("flag", "value", "other"), [
    ("--injection-tasks", "0", ("--user-tasks", "1")),   # was: every injection task ("0" read as "no limit")
    ("--user-tasks", "-1", ("--injection-tasks", "1")),  # was: every user task but the last
])
def test_task_limits_below_one_exit_2(flag: str, value: str, other: tuple[str, str],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["eval", "agentdojo", "--suite", "banking", "--attack", "direct", "--workers", "1", "--json",
              "--no-baseline", *other, flag, value])
    assert exc.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


@needs_agentdojo
def test_plan_jobs_refuses_a_zero_limit() -> None:
    from airs_plugins.eval.agentdojo_run import plan_jobs

    with pytest.raises(ValueError, match="at least 1"):
        plan_jobs(["banking"], ["direct"], injection_tasks=0)
    (job, *_rest) = plan_jobs(["banking"], ["direct"], user_tasks=1, injection_tasks=1)
    assert job.user_tasks == ("user_task_0",) and _rest[0].injection_tasks == ("injection_task_0",)
