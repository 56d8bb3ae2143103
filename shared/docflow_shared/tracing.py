"""OpenTelemetry traces across gateway, services, outbox and broker (docs/architecture.md,
"Metrics and traces").

Off unless an OTLP endpoint is configured through the standard ``OTEL_*`` variables: then no
provider, no exporter and no span objects exist, and ``span()`` yields None. On, spans go to the
endpoint over OTLP/HTTP in batches. The context travels as a W3C ``traceparent``: in HTTP headers
from the gateway, in the event envelope while it waits in an outbox, and in the AMQP message
headers to each consumer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docflow_shared.metrics import route_template
from docflow_shared.settings import ServiceSettings

logger = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
PROPAGATOR = TraceContextTextMapPropagator()

_tracer: Tracer | None = None
_provider: Any = None


def configure_tracing(settings: ServiceSettings) -> bool:
    """Export this process's spans when ``settings`` name an OTLP endpoint; once per process."""
    global _tracer, _provider
    endpoint = settings.traces_endpoint
    if endpoint is None or _tracer is not None:
        return _tracer is not None
    # imported only when tracing is on: a service without OTEL_* never loads the SDK
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = settings.otel_service_name or f"docflow-{settings.service_name}"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    _provider = provider
    _tracer = provider.get_tracer("docflow")
    logger.info("traces exported to %s", endpoint)
    return True


def enabled() -> bool:
    return _tracer is not None


def flush(timeout_ms: int = 2000) -> None:
    """Send the spans still buffered (a stopping service)."""
    if _provider is not None:
        _provider.force_flush(timeout_ms)


@contextmanager
def span(name: str, *, kind: SpanKind = SpanKind.INTERNAL, parent: str | None = None,
         attributes: Mapping[str, AttributeValue] | None = None) -> Iterator[Span | None]:
    """A current span, child of ``parent`` (a traceparent) if given, else of the current span;
    None, and nothing made, while tracing is off."""
    if _tracer is None:
        yield None
        return
    context = PROPAGATOR.extract({TRACEPARENT: parent}) if parent else None
    with _tracer.start_as_current_span(name, context=context, kind=kind, attributes=attributes) as current:
        yield current


def current_traceparent() -> str | None:
    """The current span as a W3C traceparent, or None (tracing off, or no span)."""
    if _tracer is None:
        return None
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def traceparent_of(headers: Mapping[Any, Any]) -> str | None:
    """The ``traceparent`` of AMQP message headers (str or bytes values)."""
    value = headers.get(TRACEPARENT)
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value if isinstance(value, str) and value else None


class TracingMiddleware:
    """A server span per HTTP request, child of the caller's ``traceparent`` (the gateway's).

    Installed only while tracing is on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _tracer is None:
            await self.app(scope, receive, send)
            return
        parent = None
        for key, value in scope["headers"]:
            if key == b"traceparent":
                parent = value.decode("latin-1")
                break
        with span(scope["method"], kind=SpanKind.SERVER, parent=parent,
                  attributes={"http.request.method": scope["method"]}) as current:
            assert current is not None

            async def send_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    current.set_attribute("http.response.status_code", message["status"])
                await send(message)

            try:
                await self.app(scope, receive, send_status)
            finally:
                route = route_template(scope)
                current.update_name(f"{scope['method']} {route}")
                current.set_attribute("http.route", route)
