"""OpenTelemetry spans for every audit record, with the same ids (extra ``otel``).

``OTelRecorder(inner)`` wraps any flight recorder: each append still goes to the hash chain, and a
span named ``airs.<kind>`` carries the decision's ids and outcome as attributes, so traces and the
audit trail join on ``airs.correlation_id``. Payloads are never put on spans (only digests).

    shield = Shield.default(audit=OTelRecorder(SQLiteRecorder("audit.db")))
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._extras import require

require("airs_plugins.otel", extra="otel")

from opentelemetry import trace  # noqa: E402 - the extra check must run first

from ..audit import AuditRecord, FlightRecorder, VerifyResult  # noqa: E402

_SCALAR_KEYS = ("correlation_id", "run_id", "thread_id", "agent_id", "policy_hash", "channel", "tool_name",
                "tool_call_id", "action", "layer", "status", "enforced", "risk_tier", "latency_ms", "request_id",
                "subject_digest", "tainted")


def span_attributes(kind: str, body: Mapping[str, Any], record: AuditRecord) -> dict[str, Any]:
    attrs: dict[str, Any] = {"airs.kind": kind, "airs.audit.seq": record.seq, "airs.audit.hash": record.hash}
    for key in _SCALAR_KEYS:
        value = body.get(key)
        if isinstance(value, (str, bool, int, float)):
            attrs[f"airs.{key}"] = value
    findings = body.get("findings") or []
    if findings:
        attrs["airs.findings.checks"] = sorted({str(f.get("check")) for f in findings})
        attrs["airs.findings.categories"] = sorted({str(f.get("category")) for f in findings})
        attrs["airs.findings.max_score"] = max(float(f.get("score", 0.0)) for f in findings)
    return attrs


class OTelRecorder:
    """A flight recorder that also emits one span per record."""

    def __init__(self, inner: FlightRecorder, *, tracer: Any = None) -> None:
        self.inner = inner
        self.tracer = tracer or trace.get_tracer("airs_plugins")

    def append(self, kind: str, body: Mapping[str, Any]) -> AuditRecord:
        record = self.inner.append(kind, body)
        with self.tracer.start_as_current_span(f"airs.{kind}") as span:
            span.set_attributes(span_attributes(kind, body, record))
            if body.get("action") == "block":
                span.add_event("airs.blocked", {"airs.reason": str(body.get("reason", ""))[:256]})
        return record

    def records(self, *, since: int = 0, limit: int | None = None) -> Iterator[AuditRecord]:
        return self.inner.records(since=since, limit=limit)

    def tail(self, n: int = 10) -> list[AuditRecord]:
        return self.inner.tail(n)

    def verify(self) -> VerifyResult:
        return self.inner.verify()

    def close(self) -> None:
        self.inner.close()


__all__ = ["OTelRecorder", "span_attributes"]
