"""Connection reuse under load and reconnect after the SMTP server dropped the connection."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from docflow_dev.devstack import free_port
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.mail import StartMail, address, wait_for_mail
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared.events.catalogue import UserRegistered


class CountingSink:
    """Accepts everything and counts SMTP sessions (EHLO/HELO greetings) and messages."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sessions = 0
        self.recipients: list[str] = []
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.sessions += 1
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.recipients += envelope.rcpt_tos
        return "250 OK"


@pytest.fixture
def counting_sink() -> Iterator[CountingSink]:
    sink = CountingSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


def welcome(email: str) -> UserRegistered:
    return UserRegistered(user_id="u", email=email, full_name="Ann", locale="ru")


class TestConnectionReuse:
    async def test_a_burst_uses_at_most_the_pool_size_of_connections(
        self, start_mail: StartMail, counting_sink: CountingSink
    ) -> None:
        mail = await start_mail(SMTP_PORT=str(counting_sink.port), MAIL_SMTP_POOL_SIZE="3")
        emails = [address("burst") for _ in range(60)]
        await asyncio.gather(*(mail.publish(welcome(e)) for e in emails))
        await eventually(lambda: len(counting_sink.recipients) >= len(emails), timeout=30)
        assert sorted(counting_sink.recipients) == sorted(emails)
        assert counting_sink.sessions in (1, 2, 3)


class TestReconnect:
    async def test_a_dropped_connection_is_reopened_without_a_failed_attempt(
        self, start_mail: StartMail, own_sink: Callable[..., SmtpSink], local_issuer: LocalIssuer
    ) -> None:
        first = own_sink().start()
        mail = await start_mail(SMTP_PORT=str(first.port), MAIL_SMTP_POOL_SIZE="1")
        one = address("one")
        await mail.publish(welcome(one))
        await wait_for_mail(first, one)
        first.stop()  # the pooled connection is now dead
        second = own_sink(first.port).start()
        two = address("two")
        await mail.publish(welcome(two))
        await wait_for_mail(second, two, timeout=10)
        row: Any = await eventually(lambda: _sent(mail, local_issuer, two))
        assert row["attempts"] == 1 and row["last_error"] is None


async def _sent(mail: Any, issuer: LocalIssuer, email: str) -> dict[str, Any] | None:
    async with httpx.AsyncClient(base_url=mail.url) as http:
        response = await http.get("/api/v1/admin/mail/deliveries", params={"recipient": email, "status": "sent"},
                                  headers={"Authorization": f"Bearer {issuer.token('a', role='admin')}"})
    items = response.json()["items"]
    return items[0] if items else None
