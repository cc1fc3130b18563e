"""The default check list, readable in one place. ``Policy.checks = None`` means exactly this."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._policy import Bands, CheckConfig
from ._registry import build

if TYPE_CHECKING:
    from .._policy import Policy
    from ._base import Check

CORE_CHECKS: tuple[CheckConfig, ...] = (
    CheckConfig(id="limit.size", bands=Bands(low=0.2, high=0.9)),
    CheckConfig(id="limit.caps"),
    CheckConfig(id="tool.policy"),
    CheckConfig(id="taint.flow", action="require_approval"),
)


def default_checks() -> tuple[CheckConfig, ...]:
    try:
        from ._suite import SUITE_CHECKS
    except ImportError:  # pragma: no cover - the suite ships with the package
        return CORE_CHECKS
    return CORE_CHECKS + tuple(SUITE_CHECKS)


def policy_checks(policy: Policy) -> list[CheckConfig]:
    """The checks ``policy`` runs: its ``checks`` list, or the default suite when it has none."""
    return list(policy.checks) if policy.checks is not None else list(default_checks())


def build_suite(policy: Policy, configs: list[CheckConfig] | None = None) -> list[tuple[Check, CheckConfig]]:
    """Each enabled check of ``configs`` (default: :func:`policy_checks`) built for ``policy``, with its config;
    raises :class:`~airs_plugins.CheckLoadError` for one that cannot be built."""
    return [(build(cfg, policy), cfg) for cfg in (policy_checks(policy) if configs is None else configs)
            if cfg.enabled]


DEFAULT_CHECKS = default_checks
