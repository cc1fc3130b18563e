"""Fakes for users' tests (and ours): scripted judges and reviewers, a chain-verifying recorder.

>>> from airs_plugins import Shield
>>> from airs_plugins.testing import ScriptedJudge
>>> judge = ScriptedJudge(["escalate"])
>>> shield = Shield.default(judge=judge)
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._decision import (
    Action,
    ApprovalDecision,
    ApprovalRequest,
    Channel,
    Decision,
    Finding,
    JudgeVerdict,
    Severity,
    Status,
    Subject,
)
from .audit import AuditRecord, MemoryRecorder
from .judge import coerce_verdict

if TYPE_CHECKING:
    from ._pipeline import JudgeRequest
    from ._shield import Shield

__all__ = ["AutoReviewer", "KeywordCheck", "MemoryRecorder", "ScriptedJudge", "SlowJudge", "capture_decisions"]


class KeywordCheck:
    """A check with fixed behaviour for tests: flags ``word`` with a fixed score and category.

    Pass it as ``Shield(..., checks=[KeywordCheck("INJECT", 0.95)])`` so a test of routing, taint or
    an adapter does not depend on how the L1 suite is tuned. ``attack=True`` makes the finding feed
    taint like an injection; ``action`` overrides the configured action (e.g. ``Action.REDACT``).
    """

    maso = ("PG-1.1",)

    def __init__(self, word: str, score: float = 0.95, *, category: str = "injection",
                 check_id: str = "test.keyword", attack: bool = True, action: Action | None = None,
                 channels: Iterable[Channel] | None = None, redact_label: str = "[X]") -> None:
        self.word = word
        self.score = score
        self.category = category
        self.id = check_id
        self.attack_categories = frozenset({category}) if attack else frozenset()
        self.action = action
        self.channels = frozenset(channels) if channels is not None else frozenset(Channel)
        self.redact_label = redact_label

    def run(self, subject: Subject) -> Sequence[Finding]:
        pos = subject.payload.find(self.word)
        if pos < 0:
            return []
        return [Finding(check=self.id, category=self.category, severity=Severity.HIGH, score=self.score,
                        spans=((pos, pos + len(self.word)),), message=f"keyword {self.category}",
                        maso=self.maso, attack=self.category in self.attack_categories,
                        redact_label=self.redact_label, action=self.action)]


class ScriptedJudge:
    """A judge that answers from a script, cycling the last answer when the script runs out.

    Each item is a verdict (``"pass"``, a dict, a :class:`JudgeVerdict`), an exception instance to
    raise, or a callable ``f(request) -> verdict`` (sync or async), the way httpx's ``MockTransport``
    takes a sync or async handler. ``requests`` keeps every request it saw.
    """

    def __init__(self, script: Iterable[Any] | Callable[..., Any]) -> None:
        self._fn = script if callable(script) else None
        self._items = list(script) if not callable(script) else []
        self._pos = 0
        self.requests: list[JudgeRequest] = []

    def _next(self) -> Any:
        if self._fn is not None:
            return self._fn
        if not self._items:
            return JudgeVerdict(verdict="pass", confidence=1.0)
        item = self._items[min(self._pos, len(self._items) - 1)]
        self._pos += 1
        return item

    def _resolve(self, item: Any, request: JudgeRequest) -> Any:
        if isinstance(item, BaseException):
            raise item
        if callable(item) and not isinstance(item, (str, JudgeVerdict)):
            return item(request)
        return item

    def evaluate(self, request: JudgeRequest) -> JudgeVerdict:
        self.requests.append(request)
        out = self._resolve(self._next(), request)
        if inspect.isawaitable(out):
            out = asyncio.run(_await(out))
        return coerce_verdict(out)

    async def aevaluate(self, request: JudgeRequest) -> JudgeVerdict:
        self.requests.append(request)
        out = self._resolve(self._next(), request)
        if inspect.isawaitable(out):
            out = await out
        return coerce_verdict(out)


async def _await(aw: Any) -> Any:
    return await aw


class SlowJudge(ScriptedJudge):
    """A judge that sleeps ``seconds`` before answering (to exercise budgets and timeouts)."""

    def __init__(self, seconds: float, script: Iterable[Any] = ("pass",)) -> None:
        super().__init__(script)
        self.seconds = seconds

    def evaluate(self, request: JudgeRequest) -> JudgeVerdict:
        import time

        time.sleep(self.seconds)
        return super().evaluate(request)

    async def aevaluate(self, request: JudgeRequest) -> JudgeVerdict:
        await asyncio.sleep(self.seconds)
        return await super().aevaluate(request)


class AutoReviewer:
    """A reviewer that answers approval requests from a policy: a fixed type, a script, or a function.

    ``AutoReviewer("approve")``; ``AutoReviewer(["approve", "reject"])``;
    ``AutoReviewer(lambda req: {"type": "edit", "args": {...}})``. ``seen`` keeps every request.
    """

    def __init__(self, answer: str | Mapping[str, Any] | Iterable[Any] | Callable[[ApprovalRequest], Any],
                 *, reviewer: str = "auto-reviewer") -> None:
        self.reviewer = reviewer
        self.seen: list[ApprovalRequest] = []
        if callable(answer):
            self._fn: Callable[[ApprovalRequest], Any] = answer
        elif isinstance(answer, (str, Mapping)):
            self._fn = lambda _req: answer
        else:
            cycle: Iterator[Any] = itertools.chain(list(answer), itertools.repeat(None))
            last: list[Any] = ["reject"]

            def scripted(_req: ApprovalRequest) -> Any:
                nxt = next(cycle)
                if nxt is not None:
                    last[0] = nxt
                return last[0]

            self._fn = scripted

    def __call__(self, request: ApprovalRequest | Mapping[str, Any]) -> dict[str, Any]:
        req = request if isinstance(request, ApprovalRequest) else ApprovalRequest.model_validate(request)
        self.seen.append(req)
        ans = ApprovalDecision.coerce(self._fn(req))
        if ans.reviewer is None:
            ans = ans.model_copy(update={"reviewer": self.reviewer})
        return ans.model_dump(mode="json")


@contextmanager
def capture_decisions(shield: Shield) -> Iterator[list[dict[str, Any]]]:
    """Collect the audit bodies of every decision the shield records inside the block."""
    captured: list[dict[str, Any]] = []
    original = shield.recorder.append

    def append(kind: str, body: Mapping[str, Any]) -> AuditRecord:
        rec = original(kind, body)
        if kind == "decision":
            captured.append(dict(body))
        return rec

    shield.recorder.append = append  # type: ignore[method-assign]
    try:
        yield captured
    finally:
        shield.recorder.append = original  # type: ignore[method-assign]


def verdict(kind: str, confidence: float = 1.0, rationale: str = "") -> JudgeVerdict:
    """Shorthand for building a verdict in tests."""
    return JudgeVerdict(verdict=kind, confidence=confidence, rationale=rationale)  # type: ignore[arg-type]


def failed(status: Status = Status.ERROR) -> JudgeVerdict:
    return JudgeVerdict(status=status, rationale="scripted failure")


def decision_actions(decisions: Iterable[Decision]) -> list[str]:
    return [d.action.value for d in decisions]
