"""Extras: the version range of each framework, written once, and the guard adapters call first."""

from __future__ import annotations

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
    """Raise :class:`MissingExtraError` naming the pip command when an extra's packages are absent."""
    from ._errors import MissingExtraError

    missing: list[str] = []
    for dist, spec in EXTRAS[extra]:
        try:
            metadata.version(dist)
        except metadata.PackageNotFoundError:
            missing.append(f"{dist}{spec}")
    if missing:
        msg = (f"{module} needs {', '.join(missing)} (not installed). "
               f"Install: pip install 'airs-plugins[{extra}]'")
        raise MissingExtraError(msg)
