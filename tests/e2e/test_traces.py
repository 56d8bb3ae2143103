"""One trace follows a request from the gateway to a service, into its outbox, through RabbitMQ
and into each consumer and webhook delivery: a stack of its own exports its spans over OTLP/HTTP
to a small receiver run by the test (the services are separate processes, as in production)."""

from __future__ import annotations

import asyncio
import gzip
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.plugin import event_sealer, free_ports

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str


class SpanReceiver:
    """An OTLP/HTTP trace endpoint (``/v1/traces``, protobuf) that keeps every span it gets."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.port = free_port()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.keep(ExportTraceServiceRequest.FromString(body))
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def keep(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            service = next((a.value.string_value for a in resource_spans.resource.attributes
                            if a.key == "service.name"), "")
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(ReceivedSpan(service, span.name, span.kind, span.trace_id.hex(),
                                                   span.span_id.hex(), span.parent_span_id.hex()))

    def of_trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [span for span in list(self.spans) if span.trace_id == trace_id]


@pytest.fixture(scope="module")
def receiver() -> Iterator[SpanReceiver]:
    spans = SpanReceiver()
    spans.thread.start()
    yield spans
    spans.server.shutdown()
    spans.server.server_close()


@pytest.fixture(scope="module")
def traced_stack(platform_env: dict[str, str], receiver: SpanReceiver, run_id: str,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Every service with tracing on, on a database prefix and broker namespace of its own (so
    the session's stack does not compete for its messages)."""
    env = {
        **platform_env,
        "MONGODB_DB_PREFIX": f"t{run_id}_traced_",
        "BROKER_NAMESPACE": f"t{run_id}.traced.",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.port}",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    running = Stack(env=env, ports=free_ports(), log_dir=Path(tmp_path_factory.mktemp("traced-logs"))).start()
    yield running
    running.stop()


async def wait_for_spans(receiver: SpanReceiver, trace_id: str, wanted: set[tuple[str, str]],
                         timeout: float = 30) -> list[ReceivedSpan]:
    """The trace's spans once every (service, span name) in ``wanted`` has arrived."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        spans = receiver.of_trace(trace_id)
        if wanted <= {(span.service, span.name) for span in spans}:
            return spans
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"missing {wanted - {(s.service, s.name) for s in spans}}; got {spans}")
        await asyncio.sleep(0.3)


class TestOneTrace:
    async def test_a_signup_is_one_trace_from_gateway_to_every_consumer(
            self, traced_stack: Stack, receiver: SpanReceiver) -> None:
        trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
        async with httpx.AsyncClient(base_url=traced_stack.url("gateway"), timeout=30) as client:
            created = await client.post(
                f"{API}/auth/signup",
                json={"email": f"traced.{uuid.uuid4().hex[:8]}@example.kz", "password": PASSWORD,
                      "full_name": "Dana Traced", "locale": "en"},
                headers={"traceparent": f"00-{trace_id}-{caller_span}-01"})
        assert created.status_code == 201, created.text

        spans = await wait_for_spans(receiver, trace_id, {
            ("docflow-gateway", "POST gateway"),
            ("docflow-auth", "POST /api/v1/auth/signup"),
            ("docflow-auth", "user.registered publish"),
            ("docflow-documents", "user.registered process"),
            ("docflow-mail", "user.email_verification_requested process"),
        })
        by_name = {(span.service, span.name): span for span in spans}
        gateway = by_name["docflow-gateway", "POST gateway"]
        service = by_name["docflow-auth", "POST /api/v1/auth/signup"]
        publish = by_name["docflow-auth", "user.registered publish"]
        consumer = by_name["docflow-documents", "user.registered process"]
        assert gateway.parent_id == caller_span and gateway.kind == ProtoSpan.SPAN_KIND_SERVER
        assert service.parent_id == gateway.span_id and service.kind == ProtoSpan.SPAN_KIND_SERVER
        # the relay published later, from the outbox: its span is still the request's child
        assert publish.parent_id == service.span_id and publish.kind == ProtoSpan.SPAN_KIND_PRODUCER
        assert consumer.parent_id == publish.span_id and consumer.kind == ProtoSpan.SPAN_KIND_CONSUMER


class Hook:
    """A webhook receiver on 127.0.0.1 (allowed by the run's settings): fails the first
    ``failures`` deliveries with 500, then answers 204; keeps the delivery ids it answered."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.answered: list[tuple[str, int]] = []
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        status = 500 if len(self.answered) < self.failures else 204
        self.answered.append((request.headers.get("DocFlow-Delivery-Id", ""), status))
        return web.Response(status=status)

    async def __aenter__(self) -> Hook:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def verified_user(client: httpx.AsyncClient, tap: EventTap) -> dict[str, str]:
    email = f"traced.{uuid.uuid4().hex[:8]}@example.kz"
    created = await client.post(f"{API}/auth/signup", json={
        "email": email, "password": PASSWORD, "full_name": "Dana Traced", "locale": "en"})
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    code = await tap.wait_for("user.email_verification_requested", lambda e: e.data["user_id"] == user_id,
                              timeout=30)
    verified = await client.post(f"{API}/auth/email/verify", json={"email": email, "code": code.data["code"]})
    assert verified.status_code == 200, verified.text
    login = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


class TestWebhookTrace:
    async def test_a_webhook_delivery_and_its_retry_are_in_the_trace_of_the_request_behind_the_event(
            self, traced_stack: Stack, receiver: SpanReceiver, platform_env: dict[str, str]) -> None:
        trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
        namespace = traced_stack.env["BROKER_NAMESPACE"]
        async with (EventTap(platform_env["AMQP_URL"], namespace, sealer=event_sealer(platform_env)) as tap,
                    Hook(failures=1) as hook,
                    httpx.AsyncClient(base_url=traced_stack.url("gateway"), timeout=30) as client):
            owner = await verified_user(client, tap)
            registered = await client.post(f"{API}/webhooks", headers=owner,
                                           json={"url": hook.url, "event_types": ["document.created"]})
            assert registered.status_code == 201, registered.text
            created = await client.post(f"{API}/documents", json={"title": "Traced deed"},
                                        headers={**owner, "traceparent": f"00-{trace_id}-{caller_span}-01"})
            assert created.status_code == 201, created.text
            # the first attempt fails; the send loop's retry (after NOTIFY_WEBHOOK_RETRY_BASE_SECONDS) arrives
            await eventually(lambda: [status for _, status in hook.answered] == [500, 204], timeout=60,
                             what="a failed delivery and its retry")

        spans = await wait_for_spans(receiver, trace_id, {
            ("docflow-gateway", "POST gateway"),
            ("docflow-documents", "POST /api/v1/documents"),
            ("docflow-documents", "document.created publish"),
            ("docflow-notify", "document.created process"),
            ("docflow-notify", "webhook deliver"),
        })

        def both_attempts() -> list[ReceivedSpan] | None:
            found = receiver.of_trace(trace_id)
            return found if len([span for span in found if span.name == "webhook deliver"]) == 2 else None

        spans = await eventually(both_attempts, timeout=30, what="both attempts' spans")
        by_name = {(span.service, span.name): span for span in spans}
        publish = by_name["docflow-documents", "document.created publish"]
        consumer = by_name["docflow-notify", "document.created process"]
        assert publish.parent_id == by_name["docflow-documents", "POST /api/v1/documents"].span_id
        assert consumer.parent_id == publish.span_id
        attempts = [span for span in spans if span.name == "webhook deliver"]
        assert {span.service for span in attempts} == {"docflow-notify"}
        # both the first attempt, made while consuming, and the retry, made later by the send
        # loop, are children of the span that consumed the event
        assert [span.parent_id for span in attempts] == [consumer.span_id] * 2
        assert {span.kind for span in attempts} == {ProtoSpan.SPAN_KIND_CLIENT}
