"""Errors shaped as tools raise them (no framework imported)."""

from __future__ import annotations


def retried_error(first: str, attempts: int = 40) -> Exception:
    """The error a retry loop leaves after ``attempts`` failures: each attempt's error raised from the one before,
    ``first`` (the first failure's message) at the bottom of the chain."""
    exc: Exception = RuntimeError(first)
    for attempt in range(attempts):
        try:
            raise exc
        except RuntimeError as before:
            exc = RuntimeError(f"attempt {attempt} failed")
            exc.__cause__ = before
    return exc
