"""Prometheus metrics of every service, in one catalogue (docs/architecture.md, "Metrics and traces").

The metrics live in the process's default registry (one uvicorn worker per process) and are
served by ``MetricsServer`` on a port of their own, never on the API port: the gateway forwards
only API paths, so ``/metrics`` cannot be reached from outside through it.

Label values are bounded: routes are templates (``/api/v1/documents/{document_id}``), never
raw paths; event types are the catalogue's; methods outside the standard set count as OTHER.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, start_http_server
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"

HTTP_REQUESTS = Counter(
    "docflow_http_requests", "HTTP requests answered, by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "docflow_http_request_duration_seconds", "Time to answer an HTTP request, by route template and status.",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
EVENTS_PUBLISHED = Counter(
    "docflow_events_published", "Events the broker confirmed, by type.", ["service", "type"],
)
EVENT_PUBLISH_FAILURES = Counter(
    "docflow_event_publish_failures", "Publishes the broker did not confirm (the outbox tries again).",
    ["service", "type"],
)
EVENTS_CONSUMED = Counter(
    "docflow_events_consumed",
    "Events taken from the service's queue, by type and outcome: handled, retried (sent to a "
    "retry queue), dead_lettered, refused (wrong publisher), invalid (unreadable envelope).",
    ["service", "type", "outcome"],
)
EVENT_HANDLING = Histogram(
    "docflow_event_handling_seconds", "Time a handler took, successful or not, by event type.",
    ["service", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
QUEUE_MESSAGES = Gauge(
    "docflow_queue_messages",
    "Messages waiting in the service's queues (events, retry, dlq), from a periodic passive declare.",
    ["service", "queue"],
)
OUTBOX_PENDING = Gauge(
    "docflow_outbox_pending_documents", "Documents whose outbox events are not published yet.",
    ["service", "collection"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "docflow_outbox_oldest_pending_age_seconds", "Age of the oldest unpublished outbox event (0: none).",
    ["service", "collection"],
)
MAIL_DELIVERIES = Counter(
    "docflow_mail_deliveries",
    "Mail delivery attempts by outcome: sent, failed (retried later), given_up (no more attempts).",
    ["outcome"],
)
NOTIFY_OPEN_STREAMS = Gauge(
    "docflow_notify_open_streams",
    "Event streams open on this notify replica, by transport: websocket or sse.",
    ["transport"],
)
WEBHOOK_DELIVERIES = Counter(
    "docflow_webhook_deliveries",
    "Webhook delivery attempts by outcome: delivered, failed (retried later), given_up (no more "
    "attempts), refused (the address resolved to a network webhooks may not reach).",
    ["outcome"],
)


# the gateway's label for what it proxies: the upstream, whose own metrics have the route
UPSTREAM_ROUTE = "docflow.upstream_route"


def route_template(scope: Scope) -> str:
    """The matched route's path template, or ``unmatched``: raw paths would be unbounded."""
    if (upstream := scope.get(UPSTREAM_ROUTE)) is not None:
        return str(upstream)
    # FastAPI keeps included routers nested: scope["route"] is the innermost route, whose path
    # lacks the routers' prefixes; the whole template is in FastAPI's effective route context
    # (pinned FastAPI; tests/e2e/test_metrics.py checks a prefixed template)
    effective = (scope.get("fastapi") or {}).get("effective_route_context")
    path = getattr(effective, "path_format", None) or getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


def method_label(method: str) -> str:
    return method if method in HTTP_METHODS else "OTHER"


def observe_request(service: str, method: str, route: str, status: int, seconds: float) -> None:
    labels = (service, method_label(method), route, str(status))
    HTTP_REQUESTS.labels(*labels).inc()
    HTTP_DURATION.labels(*labels).observe(seconds)


class HttpMetricsMiddleware:
    """Counts and times each HTTP request by route template and status."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            observe_request(self.service, scope["method"], route_template(scope), status,
                            time.perf_counter() - started)


class MetricsServer:
    """``/metrics`` of the default registry on ``host:port`` (a thread); port 0 serves nothing."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host
        self._server: WSGIServer | None = None
        self._thread: Any = None

    def start(self) -> None:
        if not self.port or self._server is not None:
            return
        self._server, self._thread = start_http_server(self.port, addr=self.host)
        logger.info("metrics served on %s:%d", self.host, self.port)

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
