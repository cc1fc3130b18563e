"""A check's options are the keys it declares (``option_defaults``): a key it does not declare, a typo like
``threshhold:``, is refused when the policy loads, naming the check, the key and the keys it accepts. Before,
it was dropped without a word and the check ran on its default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airs_plugins import PolicyError, Shield
from airs_plugins._policy import CheckConfig, Policy, load_policy
from airs_plugins.checks import build_suite, default_checks, known_check_ids, resolve
from airs_plugins.eval.agentdojo_run import agentdojo_policy, policy_path

from .test_cli import airs
from .test_registry import make_plugin

TYPOS = [
    ("pii.detect", {"mode": "mask", "redact_channel": ["model_output"]}, "'redact_channel'",
     "hash_salt, kinds, mode, redact_channels, tool_kinds"),
    ("output.grounding", {"threshhold": 0.3}, "'threshhold'",
     "allowed_hosts, kinds, known_values, require_evidence, score"),
    ("injection.prompt", {"dampening": 0.5}, "'dampening'", "damping, damping_one, disabled_signals"),
    ("taint.flow", {"anchor_tool": ["pay"]}, "'anchor_tool'",
     "anchor_side_effects, anchor_tools, irreversible_needs_anchor"),
    ("limit.caps", {"retries": 1}, "takes no options", ""),
]


def with_check(check_id: str, options: dict[str, Any], **entry: Any) -> dict[str, Any]:
    return {"checks": [{"id": "tool.policy"}, {"id": check_id, "options": options, **entry}]}


class TestUnknownOptions:
    @pytest.mark.parametrize(("check_id", "options", "named", "accepted"), TYPOS)
    def test_refused_when_the_policy_loads(self, check_id: str, options: dict[str, Any], named: str,
                                           accepted: str) -> None:
        with pytest.raises(PolicyError) as info:
            load_policy(with_check(check_id, options))
        assert info.value.path == "checks[1].options"
        assert repr(check_id) in str(info.value) and named in str(info.value) and accepted in str(info.value)

    @pytest.mark.parametrize(("check_id", "options", "named", "accepted"), TYPOS[:2])
    def test_refused_by_the_shield(self, check_id: str, options: dict[str, Any], named: str, accepted: str) -> None:
        with pytest.raises(PolicyError, match=named):
            Shield.from_policy(with_check(check_id, options))

    def test_refused_in_a_disabled_check_too(self) -> None:
        """Switched on later, it would fail then, far from the edit that misspelt it."""
        with pytest.raises(PolicyError, match="'threshhold'"):
            load_policy(with_check("output.grounding", {"threshhold": 0.3}, enabled=False))

    def test_refused_from_python(self) -> None:
        with pytest.raises(ValueError, match="'threshhold'"):
            Policy(checks=[CheckConfig(id="tool.policy"),
                           CheckConfig(id="output.grounding", options={"threshhold": 0.3})])

    def test_refused_by_policy_validate(self, tmp_path: Path) -> None:
        typo = tmp_path / "t.yaml"
        typo.write_text("checks:\n  - {id: tool.policy}\n  - {id: output.grounding, options: {threshhold: 0.3}}\n",
                        encoding="utf-8")
        r = airs("policy", "validate", str(typo))
        assert r.returncode == 2 and "OK" not in r.stdout
        assert "checks[1].options" in r.stderr and "'output.grounding'" in r.stderr and "'threshhold'" in r.stderr
        assert "require_evidence" in r.stderr

    def test_the_declared_keys_still_load_and_take_effect(self) -> None:
        s = Shield.from_policy(with_check("output.grounding", {"score": 0.9, "kinds": ["number"]}))
        check = next(c for c, cfg in s._compiled.checks if cfg.id == "output.grounding")
        assert check.score == 0.9 and check.kinds == frozenset({"number"})


class TestDeclarations:
    @pytest.mark.parametrize("check_id", known_check_ids())
    def test_every_built_in_check_declares_its_options_and_builds_from_them(self, check_id: str) -> None:
        """The declaration is the one list: each built-in has one, and given back as the policy's options, every
        declared default builds (a check that read an undeclared key would fail here with a KeyError)."""
        declared = getattr(resolve(check_id), "option_defaults", None)
        assert declared is not None
        policy = Policy()
        resolve(check_id)(CheckConfig(id=check_id, options=dict(declared)), policy)
        resolve(check_id)(CheckConfig(id=check_id), policy)

    def test_a_plugin_declaring_its_options_is_held_to_them(self, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
        """A check from an entry point is not imported to load the policy; its options are checked when the
        Shield builds it (and by ``airs policy validate``, which builds the checks too)."""
        (tmp_path / "acme_opts.py").write_text(
            "from airs_plugins.checks import BaseCheck\n"
            "class Acme(BaseCheck):\n"
            "    id = 'acme.opts'\n"
            "    option_defaults = {'words': []}\n"
            "    def run(self, subject):\n"
            "        return []\n", encoding="utf-8")
        make_plugin(tmp_path, "acme.opts", "acme_opts:Acme")
        monkeypatch.syspath_prepend(str(tmp_path))
        Shield.from_policy({"checks": [{"id": "acme.opts", "options": {"words": ["x"]}}]})
        with pytest.raises(PolicyError, match=r"'acme\.opts' has no option 'wrods'; it accepts: words"):
            Shield.from_policy({"checks": [{"id": "acme.opts", "options": {"wrods": ["x"]}}]})

    def test_a_check_declaring_nothing_takes_its_options_as_given(self, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        """A third-party check written before declarations keeps working: nothing to check its options by."""
        (tmp_path / "old_opts.py").write_text(
            "from airs_plugins.checks import BaseCheck\n"
            "class Old(BaseCheck):\n"
            "    id = 'old.opts'\n"
            "    def run(self, subject):\n"
            "        return []\n", encoding="utf-8")
        make_plugin(tmp_path, "old.opts", "old_opts:Old")
        monkeypatch.syspath_prepend(str(tmp_path))
        s = Shield.from_policy({"checks": [{"id": "old.opts", "options": {"anything": 1}}]})
        check = next(c for c, cfg in s._compiled.checks if cfg.id == "old.opts")
        assert check.options == {"anything": 1}


class TestShippedPolicies:
    def test_the_embedded_default_and_its_suite(self) -> None:
        policy = Policy()
        assert len(build_suite(policy)) == len(default_checks())
        Policy(checks=list(default_checks()))

    def test_the_agentdojo_policy_as_the_eval_runs_it(self) -> None:
        """Its file, and the checks list the eval builds from it (options on pii.detect and taint.flow)."""
        Shield.from_policy(policy_path())
        data = agentdojo_policy()
        assert any(c.get("options") for c in data["checks"])
        Shield.from_policy(data)
