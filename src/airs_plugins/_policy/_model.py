"""The policy as pydantic models. The JSON Schema shipped in ``schema.json`` is generated from these
(``airs policy schema`` prints it; a test keeps the file and the models in step)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .._canonical import canonical_json, sha256_hex
from .._decision import Action, Channel, FailMode, RiskTier, SideEffect

_STRICT = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Bands(BaseModel):
    """Score thresholds: below ``low`` record only; ``low``..``high`` uncertain; ``high``+ decide."""

    model_config = _STRICT

    low: float = Field(default=0.5, ge=0.0, le=1.0)
    high: float = Field(default=0.8, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        if self.low > self.high:
            msg = f"low ({self.low}) must not exceed high ({self.high})"
            raise ValueError(msg)
        return self


class CheckConfig(BaseModel):
    """One check as the policy configures it."""

    model_config = _STRICT

    id: str
    enabled: bool = True
    bands: Bands = Field(default_factory=Bands)
    action: Literal["block", "redact", "require_approval"] = "block"
    channels: list[Channel] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    """The check's own settings: the keys it declares (``option_defaults``); any other is refused."""


class ToolRules(BaseModel):
    """Argument rules enforced before a tool runs."""

    model_config = _STRICT

    path_roots: list[str] | None = None
    path_args: list[str] | None = None
    resolve_links: bool = False
    """Under ``path_roots``, also follow the symbolic links on this machine (the tool runs here): a path
    inside a root that leads out through a link is refused. Read when the call is decided."""
    allowed_domains: list[str] | None = None
    denied_domains: list[str] = Field(default_factory=list)
    allowed_schemes: list[str] = Field(default_factory=lambda: ["https", "http"])
    allow_private_network: bool = False
    url_args: list[str] | None = None
    sql_allowed_verbs: list[str] | None = None
    sql_args: list[str] | None = None
    shell_args: list[str] | None = None
    shell_deny: list[str] = Field(default_factory=list)
    max_arg_bytes: int | None = Field(default=None, ge=1)


class ToolPolicy(BaseModel):
    """How one tool is governed."""

    model_config = _STRICT

    risk_tier: RiskTier = RiskTier.MEDIUM
    side_effect: SideEffect = SideEffect.UNKNOWN
    allow: bool = True
    require_approval: bool = False
    args_schema: dict[str, Any] | None = None
    rules: ToolRules = Field(default_factory=ToolRules)
    description: str | None = None


MAX_REVIEW_SLA_S = 100 * 365 * 86_400
"""A century. A review deadline is a date, and dates end in the year 9999: a longer SLA would make every approval
request fail to be raised (``null`` is the SLA with no deadline)."""


class TierProfile(BaseModel):
    """Routing knobs for one risk tier. A tier the policy names keeps that tier's own defaults for the knobs it
    leaves out (CRITICAL: fail mode block, two approvers, every tool call approved)."""

    model_config = _STRICT

    judge_sampling: float = Field(default=0.0, ge=0.0, le=1.0)
    fail_mode: FailMode = FailMode.FLAG
    budget_ms: float = Field(default=5000.0, gt=0.0)
    judge_confidence: float = Field(default=0.7, ge=0.0, le=1.0)
    review_sla_s: float | None = Field(default=86400.0, gt=0.0, le=MAX_REVIEW_SLA_S)
    approvers: int = Field(default=1, ge=1)
    approve_tool_calls: bool = False
    """Every tool call at this tier goes to a human (MASO: high-risk actions need approval)."""


def _default_tiers() -> dict[RiskTier, TierProfile]:
    return {
        RiskTier.LOW: TierProfile(judge_sampling=0.05, fail_mode=FailMode.FLAG, budget_ms=1000,
                                  review_sla_s=72 * 3600),
        RiskTier.MEDIUM: TierProfile(judge_sampling=0.10, fail_mode=FailMode.FLAG, budget_ms=2000,
                                     review_sla_s=24 * 3600),
        RiskTier.HIGH: TierProfile(judge_sampling=0.5, fail_mode=FailMode.REQUIRE_APPROVAL,
                                   budget_ms=5000, review_sla_s=4 * 3600),
        RiskTier.CRITICAL: TierProfile(judge_sampling=1.0, fail_mode=FailMode.BLOCK, budget_ms=5000,
                                       review_sla_s=3600, approvers=2, approve_tool_calls=True),
    }


def _over_default(defaults: dict[RiskTier, TierProfile], key: Any, given: Any) -> Any:
    """``given`` (a mapping, or a TierProfile with the fields it was built with) over the default of tier
    ``key``; anything else as it is, for validation to refuse."""
    try:
        default = defaults[RiskTier(key)]
    except ValueError:
        return given
    if isinstance(given, TierProfile):
        return default.model_copy(update={k: getattr(given, k) for k in given.model_fields_set})
    if isinstance(given, dict):
        return {**default.model_dump(), **given}
    return given


class Caps(BaseModel):
    """Per-run limits (MASO EC-1.3, EC-1.5, EC-1.10)."""

    model_config = _STRICT

    tool_calls_per_hour: int | None = Field(default=100, ge=1)
    turns: int | None = Field(default=None, ge=1)
    identical_calls: int | None = Field(default=3, ge=1)
    retries: int | None = Field(default=3, ge=0)
    action: Literal["block", "require_approval"] = "block"


class TaintPolicy(BaseModel):
    """Rule of two: untrusted content read + an outward action ⇒ a gate."""

    model_config = _STRICT

    enabled: bool = True
    on_untrusted_with_findings: Literal["allow", "require_approval", "block"] = "require_approval"
    on_tainted_args: Literal["allow", "require_approval", "block"] = "require_approval"
    on_injected_args: Literal["allow", "require_approval", "block"] = "block"
    max_values_per_observation: int = Field(default=64, ge=0)


class AuditPolicy(BaseModel):
    model_config = _STRICT

    store_text: Literal["none", "redacted"] = "none"


class JudgePolicy(BaseModel):
    model_config = _STRICT

    enabled: bool = True
    rubric: str = "default-v1"


class Policy(BaseModel):
    """A complete airs-plugins policy. ``Policy()`` is the embedded default."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    version: Literal[1] = 1
    name: str = "default"
    mode: Literal["enforce", "monitor"] = "enforce"
    max_scan_bytes: int = Field(default=65536, ge=256)
    unknown_tools: Literal["allow", "require_approval", "block"] = "allow"
    default_tool: ToolPolicy = Field(default_factory=ToolPolicy)
    tools: dict[str, ToolPolicy] = Field(default_factory=dict)
    channels: dict[Channel, RiskTier] = Field(default_factory=dict)
    """The tier of each channel: inputs and outputs take it (MEDIUM when unset); tool calls, tool results and
    retrieved documents take their tool's tier, raised to the channel's when that is higher."""
    checks: list[CheckConfig] | None = None
    """None ⇒ the default L1 suite with its default bands; a list replaces it."""
    tiers: dict[RiskTier, TierProfile] = Field(default_factory=_default_tiers)
    caps: Caps = Field(default_factory=Caps)
    taint: TaintPolicy = Field(default_factory=TaintPolicy)
    audit: AuditPolicy = Field(default_factory=AuditPolicy)
    judge: JudgePolicy = Field(default_factory=JudgePolicy)
    canaries: list[str] = Field(default_factory=list)
    banned_terms: list[str] = Field(default_factory=list)
    output_schema: dict[str, Any] | None = None

    @field_validator("checks")
    @classmethod
    def _distinct_checks(cls, checks: list[CheckConfig] | None) -> list[CheckConfig] | None:
        # the router reads one config per check id: a second entry would silently replace the first's bands
        # and action while both ran
        first: dict[str, int] = {}
        for i, cfg in enumerate(checks or ()):
            if cfg.id in first:
                msg = f"check {cfg.id!r} is listed twice (checks[{first[cfg.id]}] and checks[{i}]); list it once"
                raise ValueError(msg)
            first[cfg.id] = i
        return checks

    @model_validator(mode="before")
    @classmethod
    def _tiers_over_their_defaults(cls, data: Any) -> Any:
        # a tier written in part ("CRITICAL: {budget_ms: 3000}") changes those knobs only: filled from the
        # generic TierProfile instead, CRITICAL would lose its fail-closed mode, its second approver and its
        # approval of every tool call, and a call the default policy holds for a human would run
        if not isinstance(data, dict) or not isinstance(data.get("tiers"), dict):
            return data
        defaults = _default_tiers()
        return {**data, "tiers": {key: _over_default(defaults, key, given) for key, given in data["tiers"].items()}}

    @model_validator(mode="after")
    def _fill_tiers(self) -> Policy:
        missing = {t: p for t, p in _default_tiers().items() if t not in self.tiers}
        if missing:
            object.__setattr__(self, "tiers", {**missing, **self.tiers})
        return self

    @model_validator(mode="after")
    def _known_options(self) -> Policy:
        # a misspelt option (``threshhold:``) would be dropped without a word and the check run on its default
        unknown = first_unknown_option(self)
        if unknown is not None:
            raise UnknownOption(*unknown)
        return self

    @model_validator(mode="after")
    def _checks_enforce_the_declarations(self) -> Policy:
        # a ``checks`` list replaces the default suite: one written to tune a check's options would otherwise
        # drop the check that enforces, say, a tool's ``allow: false``, and the denied tool would run
        unenforced = first_unenforced(self)
        if unenforced is not None:
            raise Unenforced(*unenforced)
        return self

    def tool(self, name: str) -> ToolPolicy:
        return self.tools.get(name, self.default_tool)

    def known_tool(self, name: str) -> bool:
        return name in self.tools

    def tier_for_channel(self, channel: Channel) -> RiskTier:
        return self.channels.get(channel, RiskTier.MEDIUM)

    def tier_for_tool(self, channel: Channel, name: str) -> RiskTier:
        """A tool call's or result's tier: the tool's, raised to the channel's when ``channels`` sets that higher
        (``channels: {retrieved: CRITICAL}`` holds for every retriever, however its tool is declared)."""
        tier = self.tool(name).risk_tier
        floor = self.channels.get(channel)
        return floor if floor is not None and floor.rank > tier.rank else tier

    def profile(self, tier: RiskTier) -> TierProfile:
        return self.tiers[tier]

    def check_config(self, check_id: str) -> CheckConfig | None:
        for cfg in self.checks or ():
            if cfg.id == check_id:
                return cfg
        return None

    @cached_property
    def hash(self) -> str:
        """SHA-256 over the canonical JSON of the parsed policy."""
        return "sha256:" + sha256_hex(canonical_json(self.model_dump(mode="json")))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A changed copy is a new policy: validated like one (tiers filled, checks checked) and hashed anew.

        pydantic's copy keeps the instance's cached ``hash``, so a copy that changed the mode or denied a tool
        would stamp its decisions with the original's hash, and approvals asked under the original would not be
        re-checked under it."""
        if not update:
            return super().model_copy(deep=deep)
        values = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self).model_validate({**values, **update})

    @property
    def enforcing(self) -> bool:
        return self.mode == "enforce"


class PolicyRuleError(ValueError):
    """A rule over the whole policy that a part of it breaks (``path`` names that part)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.detail = message


class Unenforced(PolicyRuleError):
    """A declaration of the policy that no check in its ``checks`` list enforces."""


class UnknownOption(PolicyRuleError):
    """A check's ``options`` name a key that check does not accept."""


def first_unknown_option(policy: Policy) -> tuple[str, str] | None:
    """The first check entry whose options name a key its check does not declare, as (path, why). Checks
    registered in this process are looked at (a plugin from an entry point is checked when it is built)."""
    if not any(cfg.options for cfg in policy.checks or ()):
        return None
    from ..checks._base import declared_options, unknown_options
    from ..checks._registry import builtin

    for i, cfg in enumerate(policy.checks or ()):
        if not cfg.options:
            continue
        problem = unknown_options(cfg.id, declared_options(builtin(cfg.id)), cfg.options)
        if problem is not None:
            return f"checks[{i}].options", problem
    return None


def first_unenforced(policy: Policy) -> tuple[str, str] | None:
    """The first declaration whose check the policy's ``checks`` list leaves out (or disables), as (path, why)."""
    if policy.checks is None:
        return None
    configs = {c.id: c for c in policy.checks}
    for path, what, check in _declarations(policy):
        cfg = configs.get(check)
        if cfg is None or not cfg.enabled:
            return path, (f"{what}, but {check!r}, which enforces it, is left out of the checks list or disabled "
                          f"(a checks list replaces the default suite: list {check!r} too, or drop the declaration)")
        where = _ENFORCED_ON[check]
        if cfg.channels is not None and where not in cfg.channels:
            return path, (f"{what}, but {check!r}, which enforces it, is limited to channels that leave out "
                          f"{where.value!r} (add it to that check's channels)")
    return None


_ENFORCED_ON = {"tool.policy": Channel.TOOL_CALL, "tool.rules": Channel.TOOL_CALL,
                "output.leakage": Channel.MODEL_OUTPUT, "output.banned": Channel.MODEL_OUTPUT,
                "output.schema": Channel.MODEL_OUTPUT}
"""The channel each declaration is enforced on."""


_DEFAULT_RULES = ToolRules().model_dump()


def _declarations(policy: Policy) -> Iterator[tuple[str, str, str]]:
    """What the policy declares and which check enforces each: (path, what, check id)."""
    if policy.unknown_tools != "allow":
        yield "unknown_tools", f"tools outside the inventory are set to {policy.unknown_tools}", "tool.policy"
    named = [(f"tools.{name}", tool) for name, tool in policy.tools.items()]
    for where, tool in [("default_tool", policy.default_tool), *named]:
        if not tool.allow:
            yield f"{where}.allow", "the tool is denied", "tool.policy"
        if tool.args_schema is not None:
            yield f"{where}.args_schema", "the tool's arguments have a schema", "tool.policy"
        rules = tool.rules.model_dump()
        if rules["max_arg_bytes"] is not None:
            yield f"{where}.rules.max_arg_bytes", "the tool's arguments have a size limit", "tool.policy"
        if any(rules[k] != v for k, v in _DEFAULT_RULES.items() if k != "max_arg_bytes"):
            yield f"{where}.rules", "the tool has argument rules", "tool.rules"
    if policy.canaries:
        yield "canaries", "canary tokens are declared", "output.leakage"
    if policy.banned_terms:
        yield "banned_terms", "banned terms are declared", "output.banned"
    if policy.output_schema is not None:
        yield "output_schema", "an output schema is declared", "output.schema"


__all__ = ["Action", "Bands", "Caps", "CheckConfig", "Policy", "TierProfile", "ToolPolicy", "ToolRules"]
