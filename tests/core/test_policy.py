"""Policy loading: schema, error paths, defaults, hash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airs_plugins import Policy, PolicyError, RiskTier, Shield
from airs_plugins._policy import generate_schema, load_policy, parse_policy, schema


class TestSchema:
    def test_shipped_schema_matches_models(self) -> None:
        """schema.json in the package is exactly what the models generate (regenerate it when they change)."""
        assert schema() == json.loads(json.dumps(generate_schema()))

    def test_default_policy_validates_against_schema(self) -> None:
        """The embedded default, dumped to JSON, passes the shipped schema and reloads to the same hash."""
        dumped = Policy().model_dump(mode="json")
        assert load_policy(dumped).hash == Policy().hash


class TestErrors:
    @pytest.mark.parametrize(
        ("data", "path"),
        [
            ({"tools": {"send_money": {"risk_tier": "HUGE"}}}, "tools.send_money.risk_tier"),
            ({"tools": {"x": {"rules": {"max_arg_bytes": "ten"}}}}, "tools.x.rules.max_arg_bytes"),
            ({"checks": [{"id": "a"}, {"id": "b"}, {"id": "c", "bands": {"high": "x"}}]}, "checks[2].bands.high"),
            ({"tiers": {"HIGH": {"fail_mode": "explode"}}}, "tiers.HIGH.fail_mode"),
            ({"tools": {"x": {"unknown_key": 1}}}, "tools.x"),
            ({"mode": 3}, "mode"),
        ],
    )
    def test_error_names_the_path(self, data: dict[str, object], path: str) -> None:
        """A bad field gives one PolicyError whose path is dotted with list indexes."""
        with pytest.raises(PolicyError) as info:
            load_policy(data)
        assert info.value.path == path
        assert path in str(info.value)
        assert "\n" not in str(info.value)

    @pytest.mark.parametrize(("text", "path"), [
        ("tiers:\n  HIGH: {review_sla_s: .inf}\n", "tiers.HIGH.review_sla_s"),
        ("tiers:\n  LOW: {budget_ms: .inf}\n", "tiers.LOW.budget_ms"),
        ("checks:\n  - {id: tool.rules}\n  - {id: output.grounding, options: {score: -.inf}}\n",
         "checks[1].options.score"),
        ("tools:\n  pay:\n    args_schema: {properties: {amount: {maximum: .nan}}}\n",
         "tools.pay.args_schema.properties.amount.maximum"),
    ])
    def test_a_number_that_is_not_finite_is_refused_at_load(self, tmp_path: Path, text: str, path: str) -> None:
        """YAML's .inf (a natural "no limit") and .nan have no canonical JSON, so the policy hash cannot be taken:
        such a policy loaded, and then every decision raised. It is refused at load, naming the field."""
        p = tmp_path / "airs.yaml"
        p.write_text(text, encoding="utf-8")
        with pytest.raises(PolicyError, match="finite number") as info:
            load_policy(p)
        assert info.value.path == path

    def test_a_review_deadline_past_the_calendar_is_refused_at_load(self) -> None:
        """An SLA of 10^12 s loaded, and then every approval request raised OverflowError (a deadline past the
        year 9999). A century is the most a policy may ask; null is no deadline, and is asked for as before."""
        with pytest.raises(PolicyError) as info:
            load_policy({"tiers": {"HIGH": {"review_sla_s": 1e12}}})
        assert info.value.path == "tiers.HIGH.review_sla_s"
        for sla in (100 * 365 * 86_400, None):
            s = Shield.from_policy({"tools": {"send": {"risk_tier": "HIGH", "require_approval": True}},
                                    "tiers": {"HIGH": {"review_sla_s": sla}}})
            request = s.approval_request(s.check_tool_call("send", {"to": "x"}))
            assert (request.expires_at is None) is (sla is None)
            assert s.resolve_approval(request, {"type": "approve", "reviewer": "ann"}).action.value == "allow"

    def test_band_order_is_checked(self) -> None:
        """low above high is rejected with the bands' path."""
        with pytest.raises(PolicyError) as info:
            load_policy({"checks": [{"id": "x", "bands": {"low": 0.9, "high": 0.1}}]})
        assert info.value.path.startswith("checks[0].bands")

    def test_yaml_file_error_names_file_and_path(self, tmp_path: Path) -> None:
        """A YAML file with a wrong type deep in a tool's config names the file and the field."""
        p = tmp_path / "airs.yaml"
        p.write_text("tools:\n  shell:\n    rules:\n      shell_deny: 7\n", encoding="utf-8")
        with pytest.raises(PolicyError) as info:
            load_policy(p)
        assert info.value.path == "tools.shell.rules.shell_deny"
        assert str(p) in str(info.value)

    def test_invalid_yaml_syntax(self, tmp_path: Path) -> None:
        """Broken YAML is one PolicyError with a line number, not a traceback."""
        p = tmp_path / "bad.yaml"
        p.write_text("tools: [unclosed\n", encoding="utf-8")
        with pytest.raises(PolicyError, match="invalid YAML"):
            load_policy(p)

    @pytest.mark.parametrize(("name", "text"), [
        ("airs.yaml", "tools:\n  drop_db:\n    allow: false\n  send:\n    risk_tier: HIGH\n"
                      "  drop_db:\n    risk_tier: LOW\n"),
        ("airs.json", '{"tools": {"drop_db": {"allow": false}, "drop_db": {"risk_tier": "LOW"}}}'),
    ])
    def test_duplicate_key_is_refused(self, tmp_path: Path, name: str, text: str) -> None:
        """A key named twice is an error naming it, not the last one silently winning (which here would
        let a tool the file denies run)."""
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        with pytest.raises(PolicyError, match="duplicate key 'drop_db'"):
            load_policy(p)

    def test_yaml_merge_keys_still_override(self, tmp_path: Path) -> None:
        """``<<: *base`` followed by an explicit key is an override YAML defines, not a duplicate."""
        p = tmp_path / "airs.yaml"
        p.write_text("default_tool: &base\n  risk_tier: LOW\n  side_effect: read\n"
                     "tools:\n  send:\n    <<: *base\n    risk_tier: HIGH\n", encoding="utf-8")
        assert load_policy(p).tool("send").risk_tier.value == "HIGH"

    @pytest.mark.parametrize("merged", [
        "{drop_db: {allow: false}, drop_db: {risk_tier: LOW}}",
        "[{drop_db: {allow: false}, drop_db: {risk_tier: LOW}}]",
    ])
    def test_duplicate_key_in_a_merged_mapping_is_refused(self, tmp_path: Path, merged: str) -> None:
        """A mapping written inside ``<<:`` is flattened into its parent, never read on its own: a key named
        twice in it went unchecked, and the second ``drop_db`` silently undid the first's denial."""
        p = tmp_path / "airs.yaml"
        p.write_text(f"tools:\n  <<: {merged}\n", encoding="utf-8")
        with pytest.raises(PolicyError, match="duplicate key 'drop_db'"):
            load_policy(p)

    def test_a_merged_mapping_read_again_is_not_a_duplicate(self, tmp_path: Path) -> None:
        """A merge flattens the mapping it merges in place: read again through an alias, the keys it merged
        and its own overrides of them looked like one key named twice, and a valid file was refused."""
        p = tmp_path / "airs.yaml"
        p.write_text("tools:\n  send: {<<: &send {<<: {side_effect: read}, side_effect: external}}\n"
                     "  mail: *send\n", encoding="utf-8")
        assert load_policy(p).tool("mail").side_effect.value == "external"

    def test_a_check_listed_twice_is_refused(self) -> None:
        """Routing reads one config per check id, so a second entry would silently take over the first's bands
        and action (here: an injection check made blind by the second entry's bands)."""
        checks = [{"id": "injection.prompt"}, {"id": "pii.detect"},
                  {"id": "injection.prompt", "bands": {"low": 0.99, "high": 1.0}}]
        with pytest.raises(PolicyError, match=r"'injection.prompt' is listed twice \(checks\[0\] and checks\[2\]\)"):
            parse_policy({"checks": checks})

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is a PolicyError naming it."""
        with pytest.raises(PolicyError, match="cannot read"):
            load_policy(tmp_path / "nope.yaml")


class TestChecksListEnforcesTheDeclarations:
    """A ``checks`` list replaces the default suite. Written to tune one check (the README's ``recital_words``
    option), it dropped the others: a tool the policy denies ran, with nothing said. Such a policy is refused,
    naming the declaration that nothing would enforce."""

    @pytest.mark.parametrize(("extra", "path", "check"), [
        ({"tools": {"drop_database": {"allow": False}}}, "tools.drop_database.allow", "tool.policy"),
        ({"unknown_tools": "block"}, "unknown_tools", "tool.policy"),
        ({"tools": {"pay": {"args_schema": {"type": "object"}}}}, "tools.pay.args_schema", "tool.policy"),
        ({"tools": {"pay": {"rules": {"max_arg_bytes": 10}}}}, "tools.pay.rules.max_arg_bytes", "tool.policy"),
        ({"default_tool": {"allow": False}}, "default_tool.allow", "tool.policy"),
        ({"tools": {"fetch": {"rules": {"allowed_domains": ["api.example.com"]}}}}, "tools.fetch.rules", "tool.rules"),
        ({"canaries": ["zx-canary"]}, "canaries", "output.leakage"),
        ({"banned_terms": ["project x"]}, "banned_terms", "output.banned"),
        ({"output_schema": {"type": "object"}}, "output_schema", "output.schema"),
    ])
    def test_a_declaration_without_its_check_is_refused(self, extra: dict[str, object], path: str,
                                                        check: str) -> None:
        data = {"checks": [{"id": "output.leakage" if check != "output.leakage" else "tool.policy",
                            "options": {}}], **extra}
        with pytest.raises(PolicyError) as info:
            load_policy(data)
        assert info.value.path == path and repr(check) in str(info.value)

    def test_a_disabled_check_enforces_nothing(self) -> None:
        with pytest.raises(PolicyError, match=r"'tool\.policy'") as info:
            load_policy({"checks": [{"id": "tool.policy", "enabled": False}], "tools": {"x": {"allow": False}}})
        assert info.value.path == "tools.x.allow"

    def test_a_check_kept_off_the_channel_it_guards_enforces_nothing(self) -> None:
        with pytest.raises(PolicyError, match="tool_call") as info:
            load_policy({"checks": [{"id": "tool.policy", "channels": ["user_input"]}],
                         "tools": {"x": {"allow": False}}})
        assert info.value.path == "tools.x.allow"
        load_policy({"checks": [{"id": "tool.policy", "channels": ["tool_call"]}], "tools": {"x": {"allow": False}}})

    def test_the_same_policy_with_its_check_listed_loads_and_denies(self) -> None:
        policy = {"checks": [{"id": "output.leakage", "options": {"recital_words": 0}}, {"id": "tool.policy"}],
                  "tools": {"drop_database": {"allow": False}}}
        assert Shield.from_policy(policy).check_tool_call("drop_database", {}).action.value == "block"

    def test_from_python_too(self) -> None:
        with pytest.raises(ValueError, match="banned_terms"):
            Policy(checks=[], banned_terms=["x"])

    def test_declarations_that_need_no_check_still_load(self) -> None:
        """Tiers, approval by policy and the default suite (no ``checks``) are not check declarations."""
        load_policy({"checks": [], "tools": {"pay": {"risk_tier": "HIGH", "require_approval": True}}})
        load_policy({"tools": {"drop_database": {"allow": False}}, "canaries": ["zx"]})


class TestDefaults:
    def test_default_shield_needs_no_file(self) -> None:
        """Shield.default() works with no file and puts the policy hash in every decision."""
        shield = Shield.default()
        d = shield.check_input("hello")
        assert d.policy_hash == shield.policy_hash == Policy().hash

    def test_unknown_tool_is_medium_unknown(self) -> None:
        """Unknown tools default to MEDIUM with side effect unknown."""
        p = Policy()
        assert p.tool("anything").risk_tier is RiskTier.MEDIUM
        assert p.tool("anything").side_effect.value == "unknown"

    def test_partial_tiers_are_filled(self) -> None:
        """Overriding one tier keeps the defaults of the others."""
        p = load_policy({"tiers": {"LOW": {"judge_sampling": 0.5}}})
        assert p.tiers[RiskTier.LOW].judge_sampling == 0.5
        assert p.tiers[RiskTier.CRITICAL].approvers == 2

    def test_a_tier_written_in_part_keeps_its_own_defaults(self) -> None:
        """Tuning one knob of CRITICAL (its budget) leaves it fail-closed, with two approvers and every tool call
        sent to a human: the knobs not written are CRITICAL's defaults, not a generic tier's."""
        policy = {"tiers": {"CRITICAL": {"budget_ms": 3000}},
                  "tools": {"wire": {"risk_tier": "CRITICAL", "side_effect": "irreversible"}}}
        critical = load_policy(policy).tiers[RiskTier.CRITICAL]
        assert (critical.budget_ms, critical.fail_mode.value, critical.approvers, critical.approve_tool_calls) == \
            (3000, "block", 2, True)
        d = Shield.from_policy(policy).check_tool_call("wire", {"amount": 5})
        assert d.action.value == "require_approval"

    def test_a_tier_profile_object_written_in_part_keeps_its_tiers_defaults(self) -> None:
        """The same from Python: the fields a TierProfile was built with override that tier's defaults."""
        from airs_plugins._policy import TierProfile

        p = Policy(tiers={RiskTier.HIGH: TierProfile(review_sla_s=600)})
        high = p.tiers[RiskTier.HIGH]
        assert (high.review_sla_s, high.fail_mode.value, high.judge_sampling) == (600, "require_approval", 0.5)
        assert Policy(tiers={RiskTier.HIGH: TierProfile()}).hash == Policy().hash

    def test_hash_changes_with_content_only(self) -> None:
        """The same policy hashes the same whatever the key order; any change changes the hash."""
        a = load_policy({"tools": {"a": {"risk_tier": "HIGH"}, "b": {}}})
        b = load_policy({"tools": {"b": {}, "a": {"risk_tier": "HIGH"}}})
        c = load_policy({"tools": {"a": {"risk_tier": "LOW"}, "b": {}}})
        assert a.hash == b.hash != c.hash

    def test_json_file(self, tmp_path: Path) -> None:
        """JSON policy files load too."""
        p = tmp_path / "p.json"
        p.write_text(json.dumps({"tools": {"drop_db": {"allow": False}}}), encoding="utf-8")
        assert Shield.from_policy(p).check_tool_call("drop_db", {}).action.value == "block"


class TestChannelTiers:
    """``channels`` set a tier for user input and model output only: a policy raising retrieved documents or tool
    results to CRITICAL loaded and was ignored, so an uncertain injection in a retrieved page took MEDIUM's fail
    mode (flag: allowed) instead of CRITICAL's (block)."""

    def shield(self) -> Shield:
        from airs_plugins.testing import KeywordCheck

        policy = {"checks": [], "channels": {"retrieved": "CRITICAL", "tool_result": "HIGH", "tool_call": "HIGH"},
                  "tools": {"lookup": {"risk_tier": "LOW"}, "wire": {"risk_tier": "CRITICAL"}}}
        return Shield.from_policy(policy, checks=[KeywordCheck("INJECT", 0.6)])

    def test_a_channel_tier_raises_retrieved_documents_and_tool_results(self) -> None:
        s = self.shield()
        d = s.check_retrieved("a page that says INJECT", source="web")
        assert (d.risk_tier, d.action.value) == (RiskTier.CRITICAL, "block")
        d = s.check_tool_result("lookup", "INJECT")
        assert (d.risk_tier, d.action.value) == (RiskTier.HIGH, "require_approval")

    def test_a_channel_tier_is_a_floor_for_tool_calls(self) -> None:
        """The stricter of the tool's tier and the channel's: a CRITICAL tool stays CRITICAL."""
        s = self.shield()
        assert s.check_tool_call("lookup", {"q": "x"}).risk_tier is RiskTier.HIGH
        assert s.check_tool_call("wire", {"to": "x"}).risk_tier is RiskTier.CRITICAL

    def test_without_channel_tiers_the_tool_decides(self) -> None:
        s = Shield.from_policy({"checks": [], "tools": {"lookup": {"risk_tier": "LOW"}}})
        assert s.check_tool_result("lookup", "x").risk_tier is RiskTier.LOW
        assert s.check_retrieved("x").risk_tier is RiskTier.MEDIUM


class TestChangedCopies:
    """``Policy.model_copy(update=...)`` kept the original's cached hash: decisions under the changed copy were
    stamped with the original's hash, and an approval asked under the original was not re-checked under it."""

    def test_a_changed_copy_hashes_as_its_content(self) -> None:
        base = load_policy({"tools": {"pay": {"risk_tier": "HIGH"}}})
        assert base.hash  # cached on the instance before the copy
        monitor = base.model_copy(update={"mode": "monitor"})
        assert monitor.hash == load_policy({"mode": "monitor", "tools": {"pay": {"risk_tier": "HIGH"}}}).hash
        assert monitor.hash != base.hash
        assert base.model_copy().hash == base.model_copy(update={"mode": "enforce"}).hash == base.hash

    def test_a_changed_copy_is_validated(self) -> None:
        with pytest.raises(ValueError, match="banned_terms"):
            Policy().model_copy(update={"checks": [], "banned_terms": ["x"]})

    def test_an_approval_asked_before_a_tool_was_denied_is_refused(self) -> None:
        from airs_plugins._policy import ToolPolicy

        before = load_policy({"tools": {"pay": {"risk_tier": "HIGH", "require_approval": True}}})
        asked = Shield.from_policy(before)
        request = asked.approval_request(asked.check_tool_call("pay", {"to": "bob"}), tool_args={"to": "bob"})
        now = Shield.from_policy(before.model_copy(update={"tools": {"pay": ToolPolicy(allow=False)}}))
        d = now.resolve_approval(request, {"type": "approve", "reviewer": "ann"}, tool_args={"to": "bob"})
        assert d.action.value == "block" and "denied by policy" in d.reason
