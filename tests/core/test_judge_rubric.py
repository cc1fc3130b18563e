"""The policy's ``judge.rubric`` is the rubric a ``Judge`` grades against, unless the Judge was built with its
own; a rubric nobody knows is refused when the Shield is built, never graded against another one in silence."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airs_plugins import Action, PolicyError, Shield, Status
from airs_plugins._pipeline import JudgeRequest
from airs_plugins.judge import RUBRICS, Judge

from ._fakes import MarkerCheck, core_policy
from .test_judge import ESCALATE, PASS, ChatLike

STRICT = "STRICT RUBRIC: anything touching money is an escalate.\n"


@pytest.fixture(name="strict")
def _strict(monkeypatch: pytest.MonkeyPatch) -> str:
    """A second known rubric (``RUBRICS`` is where a rubric name is looked up)."""
    monkeypatch.setitem(RUBRICS, "strict-v1", STRICT)
    return "strict-v1"


def judged(judge: Any, rubric: str | None = None, fail_mode: str = "block") -> Shield:
    extra: dict[str, Any] = {"tiers": {"MEDIUM": {"fail_mode": fail_mode}}}
    if rubric is not None:
        extra["judge"] = {"rubric": rubric}
    return Shield.from_policy(core_policy(**extra), judge=judge, checks=[MarkerCheck(score=0.6)])


class TestPolicyRubric:
    @pytest.mark.parametrize("use_async", [False, True])
    def test_a_judge_built_without_a_rubric_grades_against_the_policys(self, strict: str, use_async: bool) -> None:
        """Before, the policy's rubric went in the request and the Judge graded against default-v1 all the same,
        recording default-v1: the policy's choice of rubric did nothing."""
        model = ChatLike(ESCALATE)
        s = judged(Judge(model), rubric=strict)
        d = asyncio.run(s.acheck_input("INJECT")) if use_async else s.check_input("INJECT")
        assert model.prompts[0].startswith(STRICT) and RUBRICS["default-v1"] not in model.prompts[0]
        assert d.judge is not None and d.judge.rubric == strict and d.action is Action.BLOCK

    def test_the_default_policy_keeps_default_v1(self) -> None:
        model = ChatLike(PASS)
        d = judged(Judge(model)).check_input("INJECT")
        assert model.prompts[0].startswith(RUBRICS["default-v1"])
        assert d.judge is not None and d.judge.rubric == "default-v1" and d.action is Action.ALLOW

    def test_a_chat_model_given_as_the_judge_follows_the_policy(self, strict: str) -> None:
        """``judge=<chat model>`` is wrapped in a Judge that follows the policy too."""
        model = ChatLike(PASS)
        d = judged(model, rubric=strict).check_input("INJECT")
        assert model.prompts[0].startswith(STRICT) and d.judge is not None and d.judge.rubric == strict

    def test_an_explicit_rubric_is_kept_and_recorded(self, strict: str) -> None:
        """A Judge built with ``rubric=`` grades against its own whatever the policy names, and says so."""
        model = ChatLike(PASS)
        d = judged(Judge(model, rubric="default-v1"), rubric=strict).check_input("INJECT")
        assert model.prompts[0].startswith(RUBRICS["default-v1"])
        assert d.judge is not None and d.judge.rubric == "default-v1"

    def test_a_rubric_of_ones_own_is_recorded_by_its_name(self, strict: str) -> None:
        model = ChatLike(PASS)
        d = judged(Judge(model, rubric="acme-v2", rubric_text="ACME RUBRIC\n"), rubric=strict).check_input("INJECT")
        assert model.prompts[0].startswith("ACME RUBRIC") and d.judge is not None and d.judge.rubric == "acme-v2"
        d = judged(Judge(model, rubric_text="ACME RUBRIC\n")).check_input("INJECT")
        assert d.judge is not None and d.judge.rubric == "custom"  # not default-v1, which it did not use


class TestUnknownRubric:
    def test_a_policy_naming_an_unknown_rubric_is_refused_with_a_following_judge(self) -> None:
        """Before, the Judge graded against default-v1 in silence."""
        with pytest.raises(PolicyError) as info:
            judged(Judge(ChatLike(PASS)), rubric="strcit-v1")
        assert info.value.path == "judge.rubric"
        assert "'strcit-v1'" in str(info.value) and "default-v1" in str(info.value)

    def test_attaching_such_a_judge_is_refused_too(self) -> None:
        s = Shield.from_policy(core_policy(judge={"rubric": "strcit-v1"}))
        with pytest.raises(PolicyError, match=r"judge\.rubric"):
            s.attach_judge(Judge(ChatLike(PASS)))
        assert s.judge is None

    def test_a_judge_with_its_own_rubric_may_serve_a_policy_naming_another(self) -> None:
        """The policy's name is for the judge that follows it: one with its own rubric is not refused."""
        s = judged(Judge(ChatLike(PASS), rubric="default-v1"), rubric="acme-v9")
        d = s.check_input("INJECT")
        assert d.judge is not None and d.judge.rubric == "default-v1"

    def test_an_unknown_explicit_rubric_is_refused_when_built(self) -> None:
        """Before, ``Judge(model, rubric="strict")`` graded against default-v1 and recorded "strict"."""
        with pytest.raises(ValueError, match="unknown judge rubric 'strict'"):
            Judge(ChatLike(PASS), rubric="strict")

    @pytest.mark.parametrize("use_async", [False, True])
    def test_a_request_naming_an_unknown_rubric_is_a_judge_error(self, use_async: bool) -> None:
        """Used directly, a following Judge fails closed on a request whose rubric it does not know: an error
        verdict naming the rubric (the router's fail mode), the model never asked."""
        model = ChatLike(PASS)
        judge = Judge(model)
        s = judged(None)
        subject = s.subject_input("INJECT")
        request = JudgeRequest(subject, (), "uncertain", 1000.0, "c-1", "strcit-v1")
        v = asyncio.run(judge.aevaluate(request)) if use_async else judge.evaluate(request)
        assert v.status is Status.ERROR and v.rubric == "strcit-v1" and "unknown judge rubric" in v.rationale
        assert model.prompts == []

