"""The one vocabulary: what is checked (Subject), what checks find (Finding), what is decided (Decision).

Every adapter imports these names; nothing else defines an action, a channel or a tier.
All models are frozen pydantic v2 models whose ``model_dump(mode="json")`` round-trips.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ._canonical import call_digest, sha256_hex

if TYPE_CHECKING:
    from ._normalize import ScanText


class Action(enum.StrEnum):
    """What the host must do with the subject."""

    ALLOW = "allow"
    REDACT = "redact"
    REQUIRE_APPROVAL = "require_approval"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _ACTION_RANK[self]

    @classmethod
    def most_restrictive(cls, *actions: Action) -> Action:
        return max(actions, key=lambda a: a.rank, default=cls.ALLOW)


_ACTION_RANK = {Action.ALLOW: 0, Action.REDACT: 1, Action.REQUIRE_APPROVAL: 2, Action.BLOCK: 3}


class Layer(enum.StrEnum):
    """Which layer made the decision."""

    GUARDRAIL = "guardrail"
    JUDGE = "judge"
    HUMAN = "human"
    BREAKER = "breaker"
    POLICY = "policy"


class Status(enum.StrEnum):
    """Outcome of the layer that decided, kept apart from the action."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class RiskTier(enum.StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return ("LOW", "MEDIUM", "HIGH", "CRITICAL").index(self.value)


class Channel(enum.StrEnum):
    """Where the subject sits in the agent loop."""

    USER_INPUT = "user_input"
    MODEL_OUTPUT = "model_output"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    RETRIEVED = "retrieved"
    HANDOFF = "handoff"

    @property
    def untrusted(self) -> bool:
        """Content on this channel came from outside the user's request (indirect injection)."""
        return self in (Channel.TOOL_RESULT, Channel.RETRIEVED)


class SideEffect(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    EXTERNAL = "external"
    IRREVERSIBLE = "irreversible"
    UNKNOWN = "unknown"

    @property
    def reaches_outside(self) -> bool:
        """External, irreversible and unknown effects are gated by taint (rule of two)."""
        return self in (SideEffect.EXTERNAL, SideEffect.IRREVERSIBLE, SideEffect.UNKNOWN)


class FailMode(enum.StrEnum):
    ALLOW = "allow"
    FLAG = "flag"
    REQUIRE_APPROVAL = "require_approval"
    BLOCK = "block"

    def as_action(self) -> Action:
        return Action.ALLOW if self in (FailMode.ALLOW, FailMode.FLAG) else Action(self.value)


_FROZEN = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Finding(BaseModel):
    """One thing a check found. ``score`` says how strongly and how surely it fired (0–1)."""

    model_config = _FROZEN

    check: str
    category: str
    severity: Severity = Severity.MEDIUM
    score: float = Field(default=1.0, ge=0.0, le=1.0)
    spans: tuple[tuple[int, int], ...] = ()
    message: str = ""
    maso: tuple[str, ...] = ()
    attack: bool = False
    """True when the category is one the check declares as an attack (injection, jailbreak…)."""
    redact_label: str | None = None
    """Replacement label for the spans when the router decides to redact (e.g. ``[EMAIL]``)."""
    redact_spans: tuple[tuple[int, int], ...] | None = None
    """What a redaction replaces, when wider than the evidence in ``spans`` (an injection's payload)."""
    action: Action | None = None
    """The action this finding asks for when decided; None ⇒ the check's configured action."""


class Observation(BaseModel):
    """What the run has read from untrusted content (a tool result or a retrieved document)."""

    model_config = _FROZEN

    source: str
    channel: Channel
    digest: str
    attack_categories: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    """Salient values (addresses, URLs, account numbers…) seen in that content, normalised."""
    values_complete: bool = False
    """``values`` holds every salient value of the content (the policy's cap left none out). False for an
    observation recorded before this field existed: nobody knows."""
    injected_values: tuple[str, ...] = ()
    """The subset of ``values`` that sat inside or next to a detected attack."""
    at: float = 0.0


class RunContext(BaseModel):
    """Per-run state the stateless core needs: ids, user goal, taint, cap counters.

    It goes in as ``context=`` and the updated one comes back in ``Decision.context``. Adapters keep
    its ``model_dump(mode="json")`` in the framework's persisted state so it survives a restart.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    run_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    thread_id: str | None = None
    agent_id: str | None = None
    user_goal: str | None = None
    observations: tuple[Observation, ...] = ()
    tool_calls: dict[str, tuple[float, ...]] = Field(default_factory=dict)
    call_signatures: dict[str, int] = Field(default_factory=dict)
    """Identical tool calls since the user's latest input (the loop cap)."""
    turns: int = 0
    """Model turns since the user's latest input (the turn cap)."""
    retries: int = 0
    """Retries the agent made since the user's latest input (the retry cap; see ``Shield.count_retry``)."""
    inputs: int = 0
    """User inputs read in the run: of two contexts, the one that read more holds the newer request's counters."""

    @property
    def tainted(self) -> bool:
        """The run has read untrusted content."""
        return bool(self.observations)

    @property
    def untrusted_findings(self) -> tuple[str, ...]:
        return tuple(sorted({c for o in self.observations for c in o.attack_categories}))

    @classmethod
    def coerce(cls, value: RunContext | Mapping[str, Any] | None, **ids: str | None) -> RunContext:
        if value is None:
            return cls(**{k: v for k, v in ids.items() if v is not None})
        if isinstance(value, RunContext):
            return value
        return cls.model_validate(dict(value))


class Subject(BaseModel):
    """What is being checked, with its context."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    channel: Channel
    payload: str
    """The text to scan. For tool calls: the canonical JSON of the arguments."""
    tool_name: str | None = None
    tool_args: dict[str, Any] | None = None
    tool_call_id: str | None = None
    risk_tier: RiskTier = RiskTier.MEDIUM
    side_effect: SideEffect | None = None
    context: RunContext = Field(default_factory=RunContext)
    source: str | None = None
    """For tool results and retrieved documents: which tool or retriever produced it."""
    max_scan_bytes: int = 65536
    output_schema: dict[str, Any] | None = None
    interim: bool = False
    """For model output: text that comes with tool calls, so the run goes on and it is not the answer (the
    output schema, which describes the answer, does not apply to it)."""
    structured: tuple[Any, ...] | None = None
    """For model output: the answer's structured values (``response_format``, ``output_cls``), as JSON data.
    ``payload`` carries them as text for the text checks; the output schema is checked against these."""
    instructions: str | None = None
    """For model output and tool calls: the system prompt the model was given, when the adapter knows it.
    Never stored in the context or the audit; ``output.leakage`` reports text that recites it verbatim."""

    @cached_property
    def text(self) -> ScanText:
        """The normalised views of ``payload``, computed once and shared by every text check."""
        from ._normalize import prepare

        return prepare(self.payload, max_scan_bytes=self.max_scan_bytes)

    @cached_property
    def digest(self) -> str:
        return digest_text(self.payload)

    @cached_property
    def call_signature(self) -> str:
        """Identity of a tool call (name + canonical arguments): what the loop cap counts."""
        return call_digest(self.tool_name or "", self.payload)


class JudgeVerdict(BaseModel):
    """What the L2 judge said. ``status`` is not ok when it timed out, failed or was unparseable."""

    model_config = _FROZEN

    verdict: Literal["pass", "review", "escalate"] | None = None
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    rationale: str = ""
    rubric: str | None = None
    status: Status = Status.OK
    latency_ms: float = 0.0


ApprovalType = Literal["approve", "edit", "reject", "respond"]


class ApprovalDecision(BaseModel):
    """A human's answer to an :class:`ApprovalRequest` (LangChain HITL's four names)."""

    model_config = _FROZEN

    type: ApprovalType
    args: dict[str, Any] | None = None
    name: str | None = None
    """The tool an edit names (LangChain HITL's ``edited_action.name``). An edit changes the arguments of the
    call it answers, never its tool: ``Shield.resolve_approval`` refuses one that names another tool."""
    message: str | None = None
    reviewer: str | None = None
    reason: str | None = None
    request_id: str | None = None
    decided_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def coerce(cls, value: Any, *, index: int = 0) -> ApprovalDecision:
        """Accept our JSON, LangChain HITL's ``{"decisions": [...]}`` shape, or a bare type string.

        Anything else raises :class:`~airs_plugins.ApprovalFormatError` saying what a valid answer looks
        like (``Shield.resolve_approval`` turns such an answer into a denial with that reason)."""
        try:
            return cls._read(value, index)
        except (ValueError, TypeError, LookupError) as exc:  # pydantic's ValidationError is a ValueError
            why = ("; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
                   if isinstance(exc, ValidationError) else str(exc) or type(exc).__name__)
            raise _unreadable(value, why) from exc

    @classmethod
    def coerce_all(cls, value: Any) -> list[ApprovalDecision]:
        """Every reviewer's decision in ``value``: one answer, a list of answers, or LangChain HITL's
        ``{"decisions": [...]}`` (each of its decisions), so that a rejection counts wherever it stands.

        Raises :class:`~airs_plugins.ApprovalFormatError` when an answer cannot be read, or when there is none
        (an empty list: nobody decided anything)."""
        answers = value if isinstance(value, (list, tuple)) else [value]
        parsed = [d for a in answers for d in cls._each(a)]
        if not parsed:
            raise _unreadable(value, "it holds no decision")
        return parsed

    @classmethod
    def _each(cls, value: Any) -> list[ApprovalDecision]:
        if isinstance(value, Mapping) and "decisions" in value and "type" not in value:
            decisions = value["decisions"]
            if isinstance(decisions, (list, tuple)) and decisions:
                return [cls.coerce(d) for d in decisions]
        return [cls.coerce(value)]

    @classmethod
    def _read(cls, value: Any, index: int) -> ApprovalDecision:
        if isinstance(value, ApprovalDecision):
            return value
        if isinstance(value, str):
            return cls.model_validate({"type": value})
        if isinstance(value, Mapping):
            data = dict(value)
            if "decisions" in data and "type" not in data:
                decisions = list(data["decisions"])
                if not decisions:
                    msg = "the decisions list is empty"
                    raise ValueError(msg)
                return cls._read(decisions[index] if index < len(decisions) else decisions[-1], 0)
            edited = data.pop("edited_action", None)
            if isinstance(edited, Mapping):
                if "args" in edited and data.get("args") is None:
                    data["args"] = dict(edited["args"])
                if data.get("name") is None:
                    # kept so that a redirect is refused, not run as the original tool with the edited arguments
                    data["name"] = edited.get("name")
            return cls.model_validate(data)
        msg = f"{type(value).__name__!r} is not an answer"
        raise TypeError(msg)


def _utc(value: datetime | None) -> datetime | None:
    # a request read back from a store or a UI may carry its times without a zone; comparing one with an aware
    # time raises, so an answer to it would fail instead of being decided. Ours are UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _unreadable(value: Any, why: str) -> Exception:
    from ._errors import ApprovalFormatError

    msg = (f"cannot read the reviewer's answer {_short(value)} as an approval decision ({why}); "
           'answer with {"type": "approve" | "edit" | "reject" | "respond", ...} or LangChain\'s '
           '{"decisions": [...]}')
    return ApprovalFormatError(msg)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


class ApprovalRequest(BaseModel):
    """Everything a reviewer needs to decide, bound to the policy version that asked."""

    model_config = _FROZEN

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    channel: Channel
    tool_name: str | None = None
    tool_args: dict[str, Any] | None = None
    tool_call_id: str | None = None
    payload_preview: str = ""
    findings: tuple[Finding, ...] = ()
    judge: JudgeVerdict | None = None
    reason: str = ""
    risk_tier: RiskTier = RiskTier.MEDIUM
    policy_hash: str = ""
    correlation_id: str = ""
    run_id: str | None = None
    thread_id: str | None = None
    agent_id: str | None = None
    """The agent whose call (or answer) waits: in a multi-agent run, the reviewer must know which one asks."""
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    expires_at: datetime | None = None
    approvals_required: int = 1
    allowed_decisions: tuple[ApprovalType, ...] = ("approve", "edit", "reject", "respond")

    @field_validator("created_at", "expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and (_utc(now) or datetime.now(UTC)) >= self.expires_at

    @staticmethod
    def deadline(sla_seconds: float | None) -> datetime | None:
        if sla_seconds is None:
            return None
        return datetime.now(UTC) + timedelta(seconds=sla_seconds)


class Decision(BaseModel):
    """The single outcome every adapter enforces. See DESIGN §7 for the JSON contract."""

    model_config = _FROZEN

    action: Action
    layer: Layer = Layer.GUARDRAIL
    status: Status = Status.OK
    enforced: bool = True
    findings: tuple[Finding, ...] = ()
    risk_tier: RiskTier = RiskTier.MEDIUM
    latency_ms: float = 0.0
    redacted: str | None = None
    redacted_args: dict[str, Any] | None = None
    policy_hash: str = ""
    correlation_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    context: RunContext = Field(default_factory=RunContext)
    channel: Channel = Channel.USER_INPUT
    tool_name: str | None = None
    tool_call_id: str | None = None
    reason: str = ""
    judge: JudgeVerdict | None = None
    approval: ApprovalDecision | None = None
    approval_request_id: str | None = None

    @property
    def allowed(self) -> bool:
        """The host may go ahead (possibly with the redacted payload). False in monitor mode never."""
        return not self.enforced or self.action in (Action.ALLOW, Action.REDACT)

    @property
    def blocked(self) -> bool:
        return self.enforced and self.action is Action.BLOCK

    @property
    def needs_approval(self) -> bool:
        return self.enforced and self.action is Action.REQUIRE_APPROVAL

    def released(self, text: str) -> str | None:
        """What may pass on of ``text``, the payload this decision was made on: the redacted text when the
        guard rewrote it, ``text`` itself when allowed, None when it must not pass (blocked, or waiting for
        a reviewer)."""
        if not self.allowed:
            return None
        if self.enforced and self.action is Action.REDACT and self.redacted is not None:
            return self.redacted
        return text

    @property
    def rewritten(self) -> str | None:
        """The redacted payload that passes instead of the original: now (``redact``), or once a reviewer
        releases it (``require_approval``: an approval never undoes a redaction the policy asks for). None when
        the payload passes unchanged, or not at all."""
        if self.enforced and self.action in (Action.REDACT, Action.REQUIRE_APPROVAL):
            return self.redacted
        return None

    def passes_unnoticed(self, text: str, before: RunContext) -> bool:
        """Whether ``text`` (read from untrusted content, the payload this decision was made on) may go on as
        if it had not been checked: it passes unchanged, with no finding, and what the run recorded of it
        (the observation in ``context`` that ``before`` lacks) holds no attack and no salient value, so no
        later check would match a call against it. Only the fact that the run read something is lost when
        the caller drops this decision's context. A decision that is not enforced (monitor mode) never
        changes what the host does."""
        if not self.enforced:
            return True
        if self.findings or self.released(text) != text:
            return False
        # only the read of this very text: past its bound a run also folds its oldest reads into a new summary
        # observation, which says nothing about this text
        seen = set(before.observations)
        return not any(o.attack_categories or o.values or o.injected_values
                       for o in self.context.observations if o not in seen and o.source != FOLDED_SOURCE)

    @property
    def reply(self) -> str | None:
        """The reviewer's own answer when they responded instead of approving (None when empty)."""
        approval = self.approval
        return approval.message or None if approval is not None and approval.type == "respond" else None

    @property
    def flagged(self) -> bool:
        """An allow that carries findings (there is no separate flag action)."""
        return self.action is Action.ALLOW and bool(self.findings)


USER_GOAL_LIMIT = 16_384
FOLDED_SOURCE = "airs:earlier-reads"
"""The ``source`` of the summary observation that stands for the oldest reads of a long run (``_observations``)."""
MAX_OBSERVATIONS = 256
"""A run keeps its newest observations up to this many, the older ones folded into one summary (see
``_observations``): what they told taint is kept, which read said what is not."""


def append_goal(goal: str | None, text: str) -> str:
    """The user goal after the user said ``text``: appended, keeping the newest ``USER_GOAL_LIMIT`` chars."""
    return ((goal + "\n" if goal else "") + text)[-USER_GOAL_LIMIT:]


def digest_text(text: str) -> str:
    return "sha256:" + sha256_hex(text.encode("utf-8", "surrogatepass"))
