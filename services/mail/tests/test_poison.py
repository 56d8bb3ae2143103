"""Poison events: dead-lettered after the retries with their error while the consumer keeps
going; replayed from the DLQ after a fix (corrected data, or a corrected template)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.mail import (
    MailUnderTest,
    StartMail,
    address,
    html_part,
    text_part,
    verification_code,
    wait_for_mail,
)
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared.dlq import DeadLetter, DeadLetterQueues
from docflow_shared.events import Event
from docflow_shared.events.catalogue import UserEmailVerificationRequested, UserRegistered


def broken_verification(email: str) -> Event:
    """What a producer bug would send: ``expires_at`` is not a date."""
    return Event(type=UserEmailVerificationRequested.TYPE, producer="auth", data={
        "user_id": "u-poison", "email": email, "full_name": "Ann", "locale": "en",
        "code": "246810", "token": "tok_poison", "expires_at": "tomorrow",
    })


async def dead_letter(dlqs: DeadLetterQueues, event_id: str) -> DeadLetter | None:
    for letter in await dlqs.list(["mail"]):
        if letter.event_id == event_id:
            return letter
    return None


class TestPoisonEvent:
    @pytest.mark.slow
    async def test_dead_lettered_consumer_goes_on_and_replay_delivers(
        self, mail: MailUnderTest, smtp_sink: SmtpSink, amqp_url: str
    ) -> None:
        poison_to = address("poison")
        poison = broken_verification(poison_to)
        await mail.publish(poison)
        healthy_to = address("healthy")
        await mail.publish(UserEmailVerificationRequested(
            user_id="u-ok", email=healthy_to, full_name="Bob", locale="en", code="135790", token="t",
            expires_at=datetime.now(UTC) + timedelta(minutes=10)))
        # the next event is handled while the poison one waits for its retries
        [healthy] = await wait_for_mail(smtp_sink, healthy_to, timeout=5)
        assert verification_code(healthy) == "135790"

        async with DeadLetterQueues(amqp_url, mail.namespace) as dlqs:
            letter = await eventually(lambda: dead_letter(dlqs, str(poison.id)), timeout=20, interval=0.3)
            assert letter.event_type == "user.email_verification_requested"
            assert "expires_at" in letter.error and "ValidationError" in letter.error
            assert letter.attempts == 3  # EVENT_RETRY_DELAYS=[1,1,1]
            assert letter.failed_at
            # listing does not take the message away
            assert await dead_letter(dlqs, str(poison.id)) == letter
            assert smtp_sink.to(poison_to) == []

            fixed_expiry = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
            replayed = await dlqs.replay("mail", [str(poison.id)], data_changes={"expires_at": fixed_expiry})
            assert [r.event_id for r in replayed] == [str(poison.id)]

            [message] = await wait_for_mail(smtp_sink, poison_to, timeout=10)
            assert verification_code(message) == "246810"
            assert "token=tok_poison" in text_part(message)
            assert await dead_letter(dlqs, str(poison.id)) is None
        await asyncio.sleep(0.5)
        assert len(smtp_sink.to(poison_to)) == 1


class TestBrokenTemplateOverride:
    @pytest.mark.slow
    async def test_dead_lettered_then_replayed_unchanged_once_the_template_is_fixed(
        self, start_mail: StartMail, smtp_sink: SmtpSink, amqp_url: str, tmp_path: Path
    ) -> None:
        overrides = tmp_path / "templates"
        overrides.mkdir()
        custom = overrides / "welcome.en.html"
        custom.write_text('{% extends "_layout.html" %}{% block content %}'
                          "<h1>Welcome to {{ company_name }}, {{ name }}!</h1>{% endblock %}")
        mail = await start_mail(MAIL_TEMPLATES_DIR=str(overrides))
        english, russian = address("en-broken"), address("ru-fine")
        event = await mail.publish(UserRegistered(user_id="u1", email=english, full_name="Ann", locale="en"))
        await mail.publish(UserRegistered(user_id="u2", email=russian, full_name="Аня", locale="ru"))
        await wait_for_mail(smtp_sink, russian, timeout=5)  # the built-in ru template is fine

        async with DeadLetterQueues(amqp_url, mail.namespace) as dlqs:
            letter = await eventually(lambda: dead_letter(dlqs, str(event.id)), timeout=20, interval=0.3)
            assert "UndefinedError" in letter.error and "company_name" in letter.error
            assert smtp_sink.to(english) == []

            custom.write_text('{% extends "_layout.html" %}{% block content %}'
                              '<h1>Welcome to {{ company_name|default("DocFlow KZ") }}, {{ name }}!</h1>'
                              "{% endblock %}")
            assert [r.event_id for r in await dlqs.replay("mail", [str(event.id)])] == [str(event.id)]
            [message] = await wait_for_mail(smtp_sink, english, timeout=10)
        assert "Welcome to DocFlow KZ, Ann!" in html_part(message)
        assert "Hello Ann," in text_part(message)  # the text part is still the built-in one
