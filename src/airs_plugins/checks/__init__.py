"""L1 checks: the protocol, the registry and the default suite.

A check is a pure function of a :class:`~airs_plugins.Subject` to findings, registered by id and
configured by the policy. Third-party checks load from the entry-point group
``airs_plugins.checks`` only when the policy names them.
"""

from ._base import ALL_TEXT_CHANNELS, BaseCheck, Check
from ._defaults import CORE_CHECKS, build_suite, default_checks, policy_checks
from ._registry import ENTRY_POINT_GROUP, build, known_check_ids, register_check, resolve

__all__ = [
    "ALL_TEXT_CHANNELS",
    "CORE_CHECKS",
    "ENTRY_POINT_GROUP",
    "BaseCheck",
    "Check",
    "build",
    "build_suite",
    "default_checks",
    "known_check_ids",
    "policy_checks",
    "register_check",
    "resolve",
]
