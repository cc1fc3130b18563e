"""Exceptions raised by airs-plugins.

Our exception hierarchy::

    AIRSError
    ├── PolicyError (ValueError)          bad policy file or dict; ``.path`` names the field
    ├── MissingExtraError (ImportError)   an adapter's framework is not installed
    ├── UnknownCheckError (LookupError)   the policy names a check nobody registered
    ├── CheckLoadError (ImportError)      a third-party check failed to load
    ├── AuditError (RuntimeError)         the flight recorder cannot append or read
    ├── JudgeError (RuntimeError)         mapped at the judge seam; never leaves the router
    ├── SignatureError (ValueError)       a persisted context's HMAC is missing or wrong; never unpickled
    ├── ReviewExpired                     an approval answered after its deadline
    └── Blocked                           raised only where the host needs a raise; carries ``.decision``

A check never raises to signal a finding: it returns findings and the router decides, because a
verdict carried by an exception can be eaten by a broad ``except`` in host code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._decision import Decision


class AIRSError(Exception):
    """Root of every error raised by airs-plugins."""


class PolicyError(AIRSError, ValueError):
    """A policy failed validation. ``path`` is dotted with list indexes, e.g. ``tools.x.risk_tier``."""

    def __init__(self, path: str, message: str, *, source: str | None = None) -> None:
        self.path = path
        self.detail = message
        self.source = source
        where = f"{source}: " if source else ""
        at = path or "<root>"
        super().__init__(f"{where}policy error at {at}: {message}")


class MissingExtraError(AIRSError, ImportError):
    """A framework adapter was imported without its extra installed."""


class UntestedVersionWarning(UserWarning):
    """A framework adapter was imported with a framework release outside the range it was tested with."""


class UnknownCheckError(AIRSError, LookupError):
    """The policy names a check id that is not registered."""


class CheckLoadError(AIRSError, ImportError):
    """A third-party check named by the policy could not be loaded from its entry point."""


class AuditError(AIRSError, RuntimeError):
    """The flight recorder could not append or read a record."""


class JudgeError(AIRSError, RuntimeError):
    """The judge failed (error, bad output). Mapped to the tier's fail mode by the router."""


class SignatureError(AIRSError, ValueError):
    """A signed blob is missing its signature, was tampered with, or no key is configured."""


class ApprovalFormatError(AIRSError, ValueError):
    """A reviewer's answer could not be read as an ``ApprovalDecision``; nothing was approved or run."""


class ReviewExpired(AIRSError):
    """An approval arrived after the request's deadline; the call is denied, never auto-approved."""


class Blocked(AIRSError):
    """Raised where a host framework can only stop by raising (e.g. a callback abort).

    Carries the :class:`~airs_plugins.Decision` that caused it.
    """

    def __init__(self, decision: Decision, message: str | None = None) -> None:
        self.decision = decision
        text = message or _describe(decision)
        super().__init__(text)


def _describe(decision: Decision) -> str:
    cats = sorted({f.category for f in decision.findings})
    what = f" ({', '.join(cats)})" if cats else ""
    reason = f": {decision.reason}" if decision.reason else ""
    return (
        f"AIRS {decision.action.value} by {decision.layer.value}{what} on {decision.channel.value}"
        f"{reason} [correlation_id={decision.correlation_id}]"
    )
