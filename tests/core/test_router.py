"""Routing: bands, judge verdicts, fail modes, deterministic sampling."""

from __future__ import annotations

import pytest

from airs_plugins import Action, FailMode, Finding, JudgeVerdict, Layer, Status
from airs_plugins._policy import Bands, CheckConfig, TierProfile
from airs_plugins._router import apply_judge, route, sampled

CFG = {"c": CheckConfig(id="c", bands=Bands(low=0.4, high=0.8), action="block"),
       "r": CheckConfig(id="r", bands=Bands(low=0.4, high=0.8), action="redact")}


def f(check: str, score: float, **kw: object) -> Finding:
    return Finding(check=check, category="injection", score=score, **kw)  # type: ignore[arg-type]


def prof(**kw: object) -> TierProfile:
    return TierProfile(**kw)  # type: ignore[arg-type]


class TestBands:
    def test_below_low_is_recorded_only(self) -> None:
        """A score under the low band allows."""
        r = route([f("c", 0.2)], CFG, prof(), correlation_id="x", judge_available=True)
        assert r.action is Action.ALLOW and not r.ask_judge

    def test_at_high_takes_configured_action(self) -> None:
        """A score at the high band takes the check's action, with no judge call."""
        r = route([f("c", 0.8)], CFG, prof(), correlation_id="x", judge_available=True)
        assert r.action is Action.BLOCK and not r.ask_judge

    def test_uncertain_goes_to_judge_when_available(self) -> None:
        """A score in the band asks the judge."""
        r = route([f("c", 0.6)], CFG, prof(), correlation_id="x", judge_available=True)
        assert r.ask_judge and r.judge_reason == "uncertain"

    @pytest.mark.parametrize(("mode", "action"), [(FailMode.ALLOW, Action.ALLOW), (FailMode.FLAG, Action.ALLOW),
                                                  (FailMode.REQUIRE_APPROVAL, Action.REQUIRE_APPROVAL),
                                                  (FailMode.BLOCK, Action.BLOCK)])
    def test_uncertain_without_judge_takes_fail_mode(self, mode: FailMode, action: Action) -> None:
        """Without a judge the uncertain band takes the tier's fail mode."""
        r = route([f("c", 0.6)], CFG, prof(fail_mode=mode), correlation_id="x", judge_available=False)
        assert r.action is action and not r.ask_judge

    def test_most_restrictive_wins(self) -> None:
        """A redact and a block finding together block."""
        r = route([f("r", 0.9), f("c", 0.95)], CFG, prof(), correlation_id="x", judge_available=False)
        assert r.action is Action.BLOCK

    def test_finding_action_overrides_config(self) -> None:
        """A finding that asks for approval gets approval even though the check is configured to block."""
        r = route([f("c", 1.0, action=Action.REQUIRE_APPROVAL)], CFG, prof(), correlation_id="x",
                  judge_available=False)
        assert r.action is Action.REQUIRE_APPROVAL

    def test_unconfigured_check_uses_default_bands_and_blocks(self) -> None:
        """A finding from an unconfigured check fails closed: default bands, block."""
        r = route([f("other", 0.9)], CFG, prof(), correlation_id="x", judge_available=False)
        assert r.action is Action.BLOCK


class TestJudgeMapping:
    base = route([f("c", 0.6)], CFG, prof(), correlation_id="x", judge_available=True)

    @pytest.mark.parametrize(("verdict", "conf", "action"), [
        ("pass", 0.9, Action.ALLOW), ("pass", 0.3, Action.REQUIRE_APPROVAL),
        ("review", 0.9, Action.REQUIRE_APPROVAL), ("escalate", 0.9, Action.BLOCK)])
    def test_verdicts(self, verdict: str, conf: float, action: Action) -> None:
        """pass (confident) allows, low-confidence pass and review go to a human, escalate blocks."""
        out, layer, status, _ = apply_judge(self.base, JudgeVerdict(verdict=verdict, confidence=conf),  # type: ignore[arg-type]
                                            prof(judge_confidence=0.7))
        assert out is action and status is Status.OK
        assert layer is Layer.JUDGE

    @pytest.mark.parametrize("status", [Status.ERROR, Status.TIMEOUT])
    def test_failure_takes_fail_mode(self, status: Status) -> None:
        """A judge error or timeout takes the tier's fail mode and reports the status."""
        out, layer, st, why = apply_judge(self.base, JudgeVerdict(status=status),
                                          prof(fail_mode=FailMode.BLOCK))
        assert out is Action.BLOCK and st is status and layer is Layer.JUDGE
        assert status.value in why


class TestSampling:
    def test_deterministic(self) -> None:
        """The same correlation id always samples the same way."""
        assert all(sampled(f"id{i}", 0.3) == sampled(f"id{i}", 0.3) for i in range(200))

    def test_rate_is_respected(self) -> None:
        """About the configured share of ids is sampled; 0 and 1 are exact."""
        hits = sum(sampled(f"corr-{i}", 0.25) for i in range(4000))
        assert 850 < hits < 1150
        assert not any(sampled(f"x{i}", 0.0) for i in range(100))
        assert all(sampled(f"x{i}", 1.0) for i in range(100))

    def test_sampled_allow_asks_judge(self) -> None:
        """Clean traffic at a 100 % sampling tier goes to the judge."""
        r = route([], CFG, prof(judge_sampling=1.0), correlation_id="x", judge_available=True)
        assert r.ask_judge and r.judge_reason == "sampled"


def test_allow_finding_is_a_flag_not_uncertain() -> None:
    """A finding that asks for allow is recorded only: never judged, never the fail mode."""
    r = route([f("c", 0.6, action=Action.ALLOW)], CFG, prof(fail_mode=FailMode.BLOCK), correlation_id="x",
              judge_available=True)
    assert r.action is Action.ALLOW and not r.ask_judge and not r.fail_mode_applied


def test_fail_mode_is_marked() -> None:
    """When the fail mode settles the uncertain band, the route says so (the decision's status is skipped)."""
    r = route([f("c", 0.6)], CFG, prof(fail_mode=FailMode.REQUIRE_APPROVAL), correlation_id="x",
              judge_available=False)
    assert r.fail_mode_applied and r.action is Action.REQUIRE_APPROVAL
    decided = route([f("c", 0.9), f("r", 0.6)], CFG, prof(), correlation_id="x", judge_available=False)
    assert not decided.fail_mode_applied


class TestRedactionWithNothingToRedact:
    """``action: redact`` on a finding that marks no text cannot rewrite anything: it blocks, never passes the
    payload unchanged under a "redact" decision."""

    def test_a_redact_finding_without_spans_blocks(self) -> None:
        r = route([f("r", 0.9)], CFG, prof(), correlation_id="x", judge_available=False)
        assert r.action is Action.BLOCK and r.redact == ()

    def test_a_redact_finding_with_spans_redacts(self) -> None:
        r = route([f("r", 0.9, spans=((0, 3),))], CFG, prof(), correlation_id="x", judge_available=False)
        assert r.action is Action.REDACT and len(r.redact) == 1

    def test_explicitly_empty_redact_spans_mark_nothing(self) -> None:
        """``redact_spans`` replaces ``spans`` for the redaction: an empty one leaves nothing to replace."""
        r = route([f("r", 0.9, spans=((0, 3),), redact_spans=())], CFG, prof(), correlation_id="x",
                  judge_available=False)
        assert r.action is Action.BLOCK

    def test_a_refused_url_configured_to_redact_does_not_run(self) -> None:
        """End to end: ``tool.rules`` set to ``action: redact`` refused the host, marked no text, and the call ran
        with its arguments as they came (``redact``, ``redacted_args`` unchanged)."""
        from airs_plugins import Shield

        shield = Shield.from_policy({"checks": [{"id": "tool.rules", "action": "redact"}],
                                     "tools": {"fetch": {"rules": {"allowed_domains": ["api.example.com"]}}}})
        d = shield.check_tool_call("fetch", {"url": "https://evil.example/x"})
        assert d.action is Action.BLOCK and d.redacted_args is None
        assert shield.check_tool_call("fetch", {"url": "https://api.example.com/x"}).action is Action.ALLOW
