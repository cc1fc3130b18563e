"""The check protocol and a small base class that fills in the bookkeeping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from .._decision import Action, Channel, Finding, Severity, Subject

if TYPE_CHECKING:
    from .._policy import CheckConfig, Policy


@runtime_checkable
class Check(Protocol):
    """A pure function of a Subject → findings. Never raises to signal; never does I/O."""

    id: str
    channels: frozenset[Channel]
    maso: tuple[str, ...]
    attack_categories: frozenset[str]

    def run(self, subject: Subject) -> Sequence[Finding]: ...


ALL_TEXT_CHANNELS = frozenset(
    {Channel.USER_INPUT, Channel.MODEL_OUTPUT, Channel.TOOL_RESULT, Channel.RETRIEVED, Channel.HANDOFF}
)
UNTRUSTED_CHANNELS = frozenset({Channel.USER_INPUT, Channel.TOOL_RESULT, Channel.RETRIEVED,
                                Channel.HANDOFF})


QUOTED_CHARS = 80
"""The most of a model-chosen name (a tool, an argument) a finding's message quotes."""


def quoted(text: str, limit: int = QUOTED_CHARS) -> str:
    """``repr(text)``, its middle cut when long. Messages go to the audit trail, the approval request and the
    stream, where payloads are kept as digests: a name the model made up a megabyte long, or with a
    secret in it, is not copied there whole."""
    if len(text) <= limit:
        return repr(text)
    half = (limit - 1) // 2
    return repr(f"{text[:half]}…{text[-half:]}")


def unknown_options(check_id: str, declared: Mapping[str, Any] | None, given: Mapping[str, Any]) -> str | None:
    """Why ``given`` (a policy's ``options`` for the check) is refused: it names keys the check does not declare;
    None when it is fine, or when the check declares nothing (``declared`` None: its options are not checked).
    A misspelt key would otherwise be dropped without a word, and the check run on its default."""
    if declared is None:
        return None
    unknown = sorted(k for k in given if k not in declared)
    if not unknown:
        return None
    keys = ", ".join(repr(k) for k in unknown)
    if not declared:
        return f"check {check_id!r} takes no options (given {keys})"
    return f"check {check_id!r} has no option {keys}; it accepts: {', '.join(sorted(declared))}"


def declared_options(factory: Any) -> Mapping[str, Any] | None:
    """The options a check (class or factory) declares, with their defaults; None when it declares none."""
    declared = getattr(factory, "option_defaults", None)
    return declared if isinstance(declared, Mapping) else None


class BaseCheck:
    """Convenience base: subclasses set the class attributes and implement :meth:`run`.

    Built with the check's policy entry and the whole policy, once per :class:`Shield`. A check that sets
    :attr:`option_defaults` reads its options from ``self.options``, which holds every declared key (the
    policy's value, else the default): the declaration is the one list of what the check accepts, and a key
    the policy misspells is refused when the policy loads.
    """

    id: ClassVar[str] = ""
    channels: frozenset[Channel] = ALL_TEXT_CHANNELS
    maso: tuple[str, ...] = ()
    attack_categories: frozenset[str] = frozenset()
    default_action: ClassVar[str] = "block"
    default_bands: ClassVar[tuple[float, float]] = (0.5, 0.8)
    option_defaults: ClassVar[Mapping[str, Any] | None] = None
    """Each option the check accepts, with its default. None (a check written before options were declared):
    the policy's options are passed through unchecked."""

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        self.config = config
        self.policy = policy
        declared = self.option_defaults
        problem = unknown_options(self.id or config.id, declared, config.options)
        if problem is not None:
            raise ValueError(problem)
        self.options: dict[str, Any] = {**(declared or {}), **config.options}
        if config.channels is not None:
            self.channels = frozenset(config.channels)

    def run(self, subject: Subject) -> Sequence[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    def finding(
        self,
        category: str,
        *,
        score: float = 1.0,
        severity: Severity = Severity.MEDIUM,
        spans: Sequence[tuple[int, int]] = (),
        message: str = "",
        maso: Sequence[str] | None = None,
        action: Action | None = None,
        redact_label: str | None = None,
        redact_spans: Sequence[tuple[int, int]] | None = None,
    ) -> Finding:
        return Finding(
            check=self.id,
            category=category,
            severity=severity,
            score=max(0.0, min(1.0, score)),
            spans=tuple(spans),
            message=message,
            maso=tuple(maso if maso is not None else self.maso),
            attack=category in self.attack_categories,
            action=action,
            redact_label=redact_label,
            redact_spans=tuple(redact_spans) if redact_spans is not None else None,
        )
