"""OpenTelemetry spans carry the same ids as the audit trail."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from airs_plugins import Shield
from airs_plugins.audit import MemoryRecorder
from airs_plugins.otel import OTelRecorder


def test_decision_span_matches_audit_record() -> None:
    """Each decision emits one span whose correlation id and action match the audit record; no payload text."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    inner = MemoryRecorder()
    shield = Shield.from_policy({"tools": {"drop_db": {"allow": False}}},
                                audit=OTelRecorder(inner, tracer=provider.get_tracer("t")))
    d = shield.check_tool_call("drop_db", {"secret": "hunter2"})
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["airs.decision"]
    attrs = dict(spans[0].attributes or {})
    assert attrs["airs.correlation_id"] == d.correlation_id
    assert attrs["airs.action"] == "block"
    assert attrs["airs.audit.hash"] == inner.tail(1)[0].hash
    assert "hunter2" not in repr(attrs)
    assert [e.name for e in spans[0].events] == ["airs.blocked"]
    assert shield.recorder.verify().ok
