"""Extras: the version range of each framework, written once, and the guard adapters call first."""

from __future__ import annotations

import re
import warnings
from importlib import metadata

# (distribution, specifier) per extra. pyproject's extras must match (a test compares them).
EXTRAS: dict[str, tuple[tuple[str, str], ...]] = {
    "langgraph": (
        ("langchain", ">=1.5,<2"),
        ("langchain-core", ">=1.8,<2"),
        ("langgraph", ">=1.2,<1.3"),
        ("langgraph-checkpoint-sqlite", ">=3.1,<4"),
    ),
    "llamaindex": (("llama-index-core", ">=0.14,<0.15"),),
    "otel": (("opentelemetry-api", ">=1.25"), ("opentelemetry-sdk", ">=1.25")),
    "eval": (("agentdojo", ">=0.1.35,<0.2"), ("rich", ">=13"), ("matplotlib", ">=3.8")),
}


def require(module: str, *, extra: str) -> None:
    """Raise :class:`MissingExtraError` naming the pip command when an extra's packages are absent, and warn
    (:class:`UntestedVersionWarning`) when one is installed outside the range the adapter was tested with: an
    adapter enforces through framework behaviour (hooks, tool nodes, checkpoints) that a release outside it may
    have changed, and pip installs such a release without a word when the framework is upgraded on its own."""
    from ._errors import MissingExtraError, UntestedVersionWarning

    missing: list[str] = []
    untested: list[str] = []
    for dist, spec in EXTRAS[extra]:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            missing.append(f"{dist}{spec}")
            continue
        if not satisfies(version, spec):
            untested.append(f"{dist} {version} (tested: {spec})")
    if missing:
        msg = (f"{module} needs {', '.join(missing)} (not installed). "
               f"Install: pip install 'airs-plugins[{extra}]'")
        raise MissingExtraError(msg)
    if untested:
        warnings.warn(f"{module} was not tested with {', '.join(untested)}: check its enforcement before relying "
                      f"on it, or install the tested releases with pip install 'airs-plugins[{extra}]'",
                      UntestedVersionWarning, stacklevel=2)


def _release(version: str) -> tuple[int, ...]:
    """The release numbers a version starts with (``1.2.24rc1`` → ``(1, 2, 24)``); what the ranges above compare."""
    parts: list[int] = []
    for piece in version.split("+", 1)[0].split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.end() < len(piece):  # 24rc1: a pre-release of 24, compared as 24
            break
    return tuple(parts)


def satisfies(version: str, spec: str) -> bool:
    """Whether ``version`` is in ``spec``, a comma-separated list of ``>=``, ``>``, ``<=``, ``<``, ``==``, ``!=``
    clauses (the forms :data:`EXTRAS` uses; ``packaging`` is not a dependency of the core)."""
    have = _release(version)
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        op = re.match(r"[<>=!]=?", clause)
        if op is None:
            return False
        want = _release(clause[op.end():].strip())
        width = max(len(have), len(want))
        a, b = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
        ok = {">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b, "==": a == b, "!=": a != b}.get(op.group())
        if not ok:
            return False
    return True
