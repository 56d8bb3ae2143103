"""SMTP trouble: a server that is down, a 550 refusal, a 451 that never clears."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from docflow_dev.devstack import free_port
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.mail import MailUnderTest, StartMail, address, text_part, wait_for_mail
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared.events.catalogue import UserPasswordResetRequested


def reset(email: str) -> UserPasswordResetRequested:
    return UserPasswordResetRequested(user_id="u1", email=email, full_name="Ann", locale="en", token="rst_abc",
                                      expires_at=datetime.now(UTC) + timedelta(minutes=30))


async def delivery_of(mail: MailUnderTest, issuer: LocalIssuer, email: str) -> dict[str, Any] | None:
    rows = await mail.deliveries(issuer, recipient=email)
    return rows[0] if rows else None


class TestServerDown:
    @pytest.mark.slow
    async def test_retried_and_delivered_once_the_server_is_up(
        self, start_mail: StartMail, own_sink: Callable[..., SmtpSink], local_issuer: LocalIssuer
    ) -> None:
        port = free_port()  # nothing listens here yet: connection refused
        mail = await start_mail(SMTP_PORT=str(port), MAIL_MAX_ATTEMPTS="50")
        email = address("down")
        await mail.publish(reset(email))

        retrying = await eventually(
            lambda: _with_status(mail, local_issuer, email, "retrying", min_attempts=2), timeout=20)
        assert "Connect" in retrying["last_error"] or "refused" in retrying["last_error"].lower()

        sink = own_sink(port).start()
        [message] = await wait_for_mail(sink, email, timeout=20)
        assert "http://docflow.test/password/reset?token=rst_abc" in text_part(message)
        sent = await eventually(lambda: _with_status(mail, local_issuer, email, "sent"))
        assert sent["attempts"] >= 2
        await asyncio.sleep(1.0)
        assert len(sink.to(email)) == 1


async def _with_status(mail: MailUnderTest, issuer: LocalIssuer, email: str, status: str,
                       min_attempts: int = 0) -> dict[str, Any] | None:
    row = await delivery_of(mail, issuer, email)
    if row is not None and row["status"] == status and row["attempts"] >= min_attempts:
        return row
    return None


class TestPermanentRefusal:
    async def test_550_fails_publishes_mail_failed_and_is_not_retried(
        self, start_mail: StartMail, own_sink: Callable[..., SmtpSink], local_issuer: LocalIssuer
    ) -> None:
        sink = own_sink().start()
        sink.reject_with = "550 5.1.1 mailbox unavailable"
        mail = await start_mail(SMTP_PORT=str(sink.port))
        email = address("rejected")
        async with mail.tap() as tap:
            event = await mail.publish(reset(email))
            failed = await tap.wait_for("mail.failed", lambda e: e.data["recipient"] == email)
        assert failed.data["event_id"] == str(event.id)
        assert "550" in failed.data["error"]
        row = await delivery_of(mail, local_issuer, email)
        assert row is not None
        assert row["status"] == "failed" and row["attempts"] == 1
        assert "550" in row["last_error"] and row["failed_at"] is not None
        sink.reject_with = None
        await asyncio.sleep(2.0)  # the retry loop polls every 0.2 s: a failed delivery stays failed
        row = await delivery_of(mail, local_issuer, email)
        assert row is not None and row["attempts"] == 1
        assert sink.to(email) == []


class TestTransientForever:
    @pytest.mark.slow
    async def test_451_is_retried_then_given_up_after_max_attempts(
        self, start_mail: StartMail, own_sink: Callable[..., SmtpSink], local_issuer: LocalIssuer
    ) -> None:
        sink = own_sink().start()
        sink.reject_with = "451 4.3.0 try again later"
        mail = await start_mail(SMTP_PORT=str(sink.port), MAIL_MAX_ATTEMPTS="3")
        email = address("greylisted")
        async with mail.tap() as tap:
            await mail.publish(reset(email))
            failed = await tap.wait_for("mail.failed", lambda e: e.data["recipient"] == email, timeout=20)
        assert "gave up after 3 attempts" in failed.data["error"]
        row = await delivery_of(mail, local_issuer, email)
        assert row is not None and row["status"] == "failed" and row["attempts"] == 3
        await asyncio.sleep(1.5)
        row = await delivery_of(mail, local_issuer, email)
        assert row is not None and row["attempts"] == 3


class TestMaxAge:
    async def test_a_delivery_older_than_max_age_is_not_retried(
        self, start_mail: StartMail, local_issuer: LocalIssuer
    ) -> None:
        mail = await start_mail(SMTP_PORT=str(free_port()), MAIL_MAX_AGE_SECONDS="0.5")
        email = address("old")
        await mail.publish(reset(email))
        row = await eventually(lambda: _with_status(mail, local_issuer, email, "failed"), timeout=15)
        assert "gave up" in row["last_error"]
