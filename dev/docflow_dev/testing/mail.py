"""Test support: reading DocFlow e-mails (codes, links, tokens) and running the mail service alone."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlparse

import aio_pika
import httpx

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.plugin import own_database_and_namespace
from docflow_dev.testing.smtp import SmtpSink
from docflow_dev.testing.smtp import html_part as html_part  # re-exported for the tests
from docflow_dev.testing.smtp import text_part as text_part
from docflow_shared.broker import (
    dead_letter_exchange_name,
    dead_letter_queue_name,
    exchange_name,
    queue_name,
    retry_queue_name,
)
from docflow_shared.bus import EventBus
from docflow_shared.events import Event, EventPayload, new_event
from docflow_shared.events.producers import producer_of

CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
LINK = re.compile(r"https?://[^\s\"'<>]+")


def verification_code(message: EmailMessage) -> str:
    """The 6-digit code of an e-mail confirmation message (from its text part)."""
    body = text_part(message)
    for line in body.splitlines():
        if ":" in line and (match := CODE.search(line.rsplit(":", 1)[1])):
            return match.group(1)
    match = CODE.search(body)
    if match is None:
        raise AssertionError("no 6-digit code in the e-mail")
    return match.group(1)


def links(message: EmailMessage) -> list[str]:
    return LINK.findall(text_part(message))


def link_token(message: EmailMessage, path_fragment: str = "") -> str:
    """The ``token`` query parameter of the first link containing ``path_fragment``."""
    for link in links(message):
        if path_fragment in link:
            tokens = parse_qs(urlparse(link).query).get("token")
            if tokens:
                return tokens[0]
    raise AssertionError(f"no link with a token{f' for {path_fragment}' if path_fragment else ''}")


def is_to(message: EmailMessage, address: str) -> bool:
    return address.lower() in str(message["To"]).lower()


# --- the mail service on its own ---------------------------------------------------------

class MailUnderTest:
    """The mail service as a process, with a bus to publish events on its namespace."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.namespace = env["BROKER_NAMESPACE"]
        self.log_dir = log_dir
        self.stack = Stack(env=env, ports={"mail": free_port()}, only=("mail",), log_dir=log_dir)
        self.bus = EventBus(amqp_url=env["AMQP_URL"], service="mail-tests", namespace=self.namespace)

    @property
    def url(self) -> str:
        return self.stack.url("mail")

    async def start(self) -> MailUnderTest:
        await asyncio.to_thread(self.stack.start)
        await self.bus.start()
        assert await self.bus.wait_ready(15), "publisher not connected"
        await self.wait_ready()
        return self

    async def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as http:
            while time.monotonic() < deadline:
                response = await http.get("/ready")
                if response.status_code == 200:
                    return
                await asyncio.sleep(0.2)
        raise AssertionError(f"mail service not ready: {response.text}")

    async def stop(self) -> None:
        await self.bus.close()
        await asyncio.to_thread(self.stack.stop)
        await drop_topology(self.env["AMQP_URL"], self.namespace, ["mail"],
                            json.loads(self.env.get("EVENT_RETRY_DELAYS", "[1, 10, 60]")))

    async def publish(self, payload: EventPayload | Event) -> Event:
        event = payload if isinstance(payload, Event) else new_event(payload, producer=producer_of(payload.TYPE) or "")
        await self.bus.publish(event)
        return event

    async def deliveries(self, issuer: LocalIssuer, **params: str) -> list[dict[str, Any]]:
        """The delivery log as an admin reads it through the API, filtered by ``params``."""
        token = issuer.token("admin-1", role="admin")
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            response = await http.get("/api/v1/admin/mail/deliveries", params=params,
                                      headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        return cast(list[dict[str, Any]], response.json()["items"])

    def tap(self) -> EventTap:
        return EventTap(self.env["AMQP_URL"], self.namespace)

    def log(self) -> str:
        path = self.log_dir / "mail.log"
        return path.read_text(errors="replace") if path.exists() else ""


async def drop_topology(amqp_url: str, namespace: str, services: list[str], retry_delays: list[int]) -> None:
    """Delete a test namespace's queues and exchanges (quorum queues cost the broker memory)."""
    with contextlib.suppress(Exception):
        connection = await aio_pika.connect(amqp_url, timeout=5)
        async with connection:
            channel = await connection.channel()
            for service in services:
                names = [queue_name(namespace, service), dead_letter_queue_name(namespace, service)]
                names += [retry_queue_name(namespace, service, delay) for delay in retry_delays]
                for name in names:
                    await channel.queue_delete(name, timeout=5)
            for name in (exchange_name(namespace), dead_letter_exchange_name(namespace)):
                await channel.exchange_delete(name, timeout=5)


StartMail = Callable[..., Awaitable[MailUnderTest]]


def mail_env(platform_env: dict[str, str], issuer: LocalIssuer, **overrides: str) -> dict[str, str]:
    """The run's platform env with a namespace and database of its own (no competing consumers)."""
    return {
        **own_database_and_namespace(platform_env, "mail"),
        "JWKS_URL": issuer.jwks_url,
        "MAIL_FROM": "DocFlow <no-reply@docflow.test>",
        "MAIL_RETRY_BASE_SECONDS": "0.3",
        "MAIL_RETRY_MAX_SECONDS": "1",
        "MAIL_RETRY_POLL_SECONDS": "0.2",
        "SMTP_TIMEOUT": "3",
        "LOG_JSON": "false",
        **overrides,
    }


def address(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.test"


async def wait_for_mail(sink: SmtpSink, recipient: str, *, count: int = 1, timeout: float = 15) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sink.to(recipient)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(sink.to(recipient))} e-mail(s) to {recipient}, expected {count}")

