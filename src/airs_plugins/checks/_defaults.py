"""The default check list, readable in one place. ``Policy.checks = None`` means exactly this."""

from __future__ import annotations

from .._policy import Bands, CheckConfig

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


DEFAULT_CHECKS = default_checks
