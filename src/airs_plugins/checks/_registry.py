"""Check registry: built-ins register by decorator; third-party checks come from the entry-point
group ``airs_plugins.checks`` and are loaded only when the policy names them. The registry fails
closed: an unknown id or a plugin that does not load stops ``Shield`` construction."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import CheckLoadError, PolicyError, UnknownCheckError
from ._base import declared_options, unknown_options

if TYPE_CHECKING:
    from .._policy import CheckConfig, Policy
    from ._base import Check

ENTRY_POINT_GROUP = "airs_plugins.checks"

CheckFactory = Callable[["CheckConfig", "Policy"], "Check"]
F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[str, CheckFactory] = {}
_BUILTIN_MODULES = (
    "airs_plugins.checks.limits",
    "airs_plugins.checks.tool_policy",
    "airs_plugins.checks.taint",
)
_builtins_loaded = False


def register_check(check_id: str) -> Callable[[F], F]:
    """Register a check class (or factory) under ``check_id``."""

    def deco(factory: F) -> F:
        if getattr(factory, "id", check_id) in ("", None):
            setattr(factory, "id", check_id)  # noqa: B010 - F is a generic callable
        _REGISTRY[check_id] = factory
        return factory

    return deco


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    for mod in _BUILTIN_MODULES + _extra_builtin_modules():
        importlib.import_module(mod)
    _builtins_loaded = True


def _extra_builtin_modules() -> tuple[str, ...]:
    try:
        from ._suite import SUITE_MODULES
    except ImportError:  # pragma: no cover - the suite ships with the package
        return ()
    return tuple(SUITE_MODULES)


def builtin(check_id: str) -> CheckFactory | None:
    """The check registered in this process under ``check_id`` (a built-in, or one registered by decorator);
    entry points are not loaded."""
    _load_builtins()
    return _REGISTRY.get(check_id)


def known_check_ids() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def _from_entry_point(check_id: str) -> CheckFactory | None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name != check_id:
            continue
        try:
            factory: CheckFactory = ep.load()
        except Exception as exc:
            msg = (f"check {check_id!r} from entry point {ep.value!r} failed to load: "
                   f"{type(exc).__name__}: {exc}. Fix or uninstall the plugin, or remove the check "
                   f"from the policy.")
            raise CheckLoadError(msg) from exc
        return factory
    return None


def resolve(check_id: str) -> CheckFactory:
    _load_builtins()
    factory = _REGISTRY.get(check_id)
    if factory is None:
        factory = _from_entry_point(check_id)
    if factory is None:
        msg = (f"unknown check {check_id!r}. Known checks: {', '.join(known_check_ids())}. "
               f"Third-party checks register in the entry-point group {ENTRY_POINT_GROUP!r}.")
        raise UnknownCheckError(msg)
    return factory


def build(config: CheckConfig, policy: Policy) -> Check:
    factory = resolve(config.id)
    problem = unknown_options(config.id, declared_options(factory), config.options)
    if problem is not None:  # a policy error, not a check that failed to load: said so before building
        raise PolicyError("checks", problem)
    try:
        check = factory(config, policy)
    except Exception as exc:
        msg = f"check {config.id!r} could not be built from its policy entry: {exc}"
        raise CheckLoadError(msg) from exc
    for attr in ("id", "channels", "maso", "run"):
        if not hasattr(check, attr):
            msg = f"check {config.id!r} does not implement the Check protocol (missing {attr!r})"
            raise CheckLoadError(msg)
    return check
