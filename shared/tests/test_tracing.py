"""Tracing is off without OTEL_* (no spans at all) and, on, puts its context in events and logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from docflow_shared import tracing
from docflow_shared.events import new_event
from docflow_shared.events.catalogue import UserDeleted
from docflow_shared.logging import JsonFormatter
from docflow_shared.settings import ServiceSettings


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Tracing on in this process, its spans kept in memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_tracer", provider.get_tracer("test"))
    yield exporter
    provider.shutdown()


def log_line(message: str) -> dict[str, object]:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, message, None, None)
    return dict(json.loads(JsonFormatter("test").format(record)))


def deletion() -> UserDeleted:
    return UserDeleted.model_validate({"user_id": "u_1", "deleted_at": "2026-12-04T00:00:00Z"})


class TestOff:
    def test_no_endpoint_means_no_tracing(self) -> None:
        assert ServiceSettings(otel_exporter_otlp_endpoint="").traces_endpoint is None
        assert ServiceSettings(otel_exporter_otlp_endpoint="http://collector:4318",
                               otel_sdk_disabled=True).traces_endpoint is None
        assert ServiceSettings(otel_exporter_otlp_endpoint="http://collector:4318",
                               otel_traces_exporter="none").traces_endpoint is None
        assert ServiceSettings(otel_exporter_otlp_endpoint="http://collector:4318/").traces_endpoint \
            == "http://collector:4318/v1/traces"

    def test_no_span_objects_while_off(self) -> None:
        assert not tracing.enabled()
        with tracing.span("work") as current:
            assert current is None
            assert new_event(deletion(), producer="auth").traceparent is None
            assert "trace_id" not in log_line("nothing traced")


class TestOn:
    def test_events_carry_the_context_they_were_made_in(self, exported: InMemorySpanExporter) -> None:
        with tracing.span("request") as current:
            assert current is not None
            event = new_event(deletion(), producer="auth")
        context = current.get_span_context()
        assert (event.traceparent or "").startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")
        assert [span.name for span in exported.get_finished_spans()] == ["request"]

    def test_a_span_continues_a_traceparent(self, exported: InMemorySpanExporter) -> None:
        parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        with tracing.span("consume", parent=parent):
            pass
        (span,) = exported.get_finished_spans()
        assert span.context is not None and span.parent is not None
        assert f"{span.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
        assert f"{span.parent.span_id:016x}" == "b7ad6b7169203331"

    def test_log_lines_carry_the_trace_id(self, exported: InMemorySpanExporter) -> None:
        with tracing.span("request") as current:
            assert current is not None
            line = log_line("handled")
        assert line["trace_id"] == f"{current.get_span_context().trace_id:032x}"
