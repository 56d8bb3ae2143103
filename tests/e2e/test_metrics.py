"""Every service serves Prometheus metrics on a port of its own, and the gateway never exposes
them: requests through the gateway move each service's request and event counters."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from docflow_dev.devstack import Stack
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.mail import is_to, verification_code
from docflow_dev.testing.smtp import SmtpSink

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"
SERVICES = ("gateway", "auth", "documents", "signing", "mail", "routes", "audit", "notify")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(stack: Stack, service: str) -> Samples:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(stack.metrics_url(service))
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text) for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name`` over the samples whose labels include ``labels`` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)



async def sign_up(client: httpx.AsyncClient, smtp_sink: SmtpSink) -> str:
    """A verified, logged-in account through the gateway; returns its access token."""
    email = f"metrics.{uuid.uuid4().hex[:8]}@example.kz"
    created = await client.post(f"{API}/auth/signup", json={
        "email": email, "password": PASSWORD, "full_name": "Aigerim Metrics", "locale": "en"})
    assert created.status_code == 201, created.text
    code = verification_code(smtp_sink.wait_for(lambda m: is_to(m, email) and "code" in str(m["Subject"]), 30))
    verified = await client.post(f"{API}/auth/email/verify", json={"email": email, "code": code})
    assert verified.status_code == 200, verified.text
    login = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return str(login.json()["access_token"])


class TestMetricsPorts:
    async def test_every_service_serves_metrics_on_its_own_port(self, stack: Stack) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            for service in SERVICES:
                response = await http.get(stack.metrics_url(service))
                assert response.status_code == 200, service
                families = {family.name for family in text_string_to_metric_families(response.text)}
                assert {"docflow_http_requests", "docflow_events_published"} <= families, service

    async def test_the_gateway_exposes_no_metrics(self, client: httpx.AsyncClient) -> None:
        for path in ("/metrics", f"{API}/metrics", f"{API}/auth/metrics", f"{API}/documents/metrics",
                     f"{API}/mail/metrics", "/.well-known/metrics"):
            response = await client.get(path)
            assert response.status_code in (401, 404), (path, response.status_code)
            assert "docflow_http_requests" not in response.text, path


class TestCountersMove:
    async def test_requests_and_events_are_counted(self, stack: Stack, client: httpx.AsyncClient,
                                                   smtp_sink: SmtpSink) -> None:
        before = {service: await scrape(stack, service) for service in ("auth", "documents", "mail", "gateway")}
        token = await sign_up(client, smtp_sink)
        auth_header = {"Authorization": f"Bearer {token}"}
        listed = await client.get(f"{API}/documents", headers=auth_header)
        assert listed.status_code == 200, listed.text
        missing = f"{API}/documents/d_{uuid.uuid4().hex}"
        assert (await client.get(missing, headers=auth_header)).status_code == 404

        async def moved() -> bool:
            auth, documents = await scrape(stack, "auth"), await scrape(stack, "documents")
            mail, gateway = await scrape(stack, "mail"), await scrape(stack, "gateway")

            def grew(samples: Samples, service: str, name: str, **labels: str) -> None:
                now, then = value(samples, name, **labels), value(before[service], name, **labels)
                assert now > then, (service, name, labels, then, now)

            grew(auth, "auth", "docflow_http_requests_total",
                 route="/api/v1/auth/signup", method="POST", status="201")
            grew(auth, "auth", "docflow_http_request_duration_seconds_count", route="/api/v1/auth/signup")
            grew(auth, "auth", "docflow_events_published_total", type="user.registered")
            grew(documents, "documents", "docflow_http_requests_total",
                 route="/api/v1/documents", method="GET", status="200")
            grew(documents, "documents", "docflow_http_requests_total",
                 route="/api/v1/documents/{document_id}", method="GET", status="404")
            routes = {dict(labels).get("route") for name, labels in documents}
            assert missing not in routes  # templates, not raw paths: bounded cardinality
            grew(documents, "documents", "docflow_events_consumed_total", type="user.registered",
                 outcome="handled")
            grew(documents, "documents", "docflow_event_handling_seconds_count", type="user.registered")
            grew(mail, "mail", "docflow_events_consumed_total",
                 type="user.email_verification_requested", outcome="handled")
            grew(mail, "mail", "docflow_mail_deliveries_total", outcome="sent")
            grew(gateway, "gateway", "docflow_http_requests_total", route="upstream:auth", status="201")
            return True

        await eventually(moved, timeout=20)

    async def test_outbox_backlog_and_queue_depths_are_measured(self, stack: Stack) -> None:
        async def measured() -> bool:
            auth, mail = await scrape(stack, "auth"), await scrape(stack, "mail")
            assert ("docflow_outbox_pending_documents", frozenset({("service", "auth"), ("collection", "users")})) \
                in auth
            assert ("docflow_outbox_oldest_pending_age_seconds",
                    frozenset({("service", "auth"), ("collection", "users")})) in auth
            for queue in ("events", "retry", "dlq"):
                assert ("docflow_queue_messages", frozenset({("service", "mail"), ("queue", queue)})) in mail
            return True

        await eventually(measured, timeout=20)

