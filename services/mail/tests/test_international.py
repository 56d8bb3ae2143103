"""Internationalised addresses (services/mail/README.md): a non-ASCII domain goes out in its
IDNA form to any server; a non-ASCII local part goes out under SMTPUTF8, and to a server that
does not offer it the delivery fails for good with mail.failed, never retried on and on."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.mail import MailUnderTest, StartMail, text_part, verification_code
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared.events.catalogue import UserEmailVerificationRequested


def verification(email: str, code: str) -> UserEmailVerificationRequested:
    return UserEmailVerificationRequested(user_id=f"u-{uuid.uuid4().hex[:6]}", email=email, full_name="Айгерим",
                                          locale="ru", code=code, token="tok",
                                          expires_at=datetime.now(UTC) + timedelta(minutes=10))


async def received(sink: SmtpSink, address: str) -> bool:
    return sink.received_for(address)


class TestInternationalAddresses:
    async def test_a_non_ascii_local_part_is_sent_with_smtputf8(self, mail: MailUnderTest, smtp_sink: SmtpSink
                                                                 ) -> None:
        email = f"айгерим.{uuid.uuid4().hex[:6]}@example.kz"
        await mail.publish(verification(email, "314159"))
        await eventually(lambda: received(smtp_sink, email))
        [message] = [m for m in smtp_sink.messages if "314159" in text_part(m)]
        assert verification_code(message) == "314159"

    async def test_a_non_ascii_domain_is_sent_in_its_idna_form(self, mail: MailUnderTest, smtp_sink: SmtpSink
                                                               ) -> None:
        local = f"x{uuid.uuid4().hex[:6]}"
        await mail.publish(verification(f"{local}@мысал.қаз", "271828"))
        await eventually(lambda: received(smtp_sink, f"{local}@xn--80awbu3c.xn--80ao21a"))
        [message] = [m for m in smtp_sink.messages if "271828" in text_part(m)]
        assert f"{local}@xn--80awbu3c.xn--80ao21a" in str(message["To"])

    async def test_without_smtputf8_at_the_server_it_fails_once_with_mail_failed(
        self, start_mail: StartMail, local_issuer: LocalIssuer
    ) -> None:
        sink = SmtpSink(smtputf8=False).start()
        try:
            mail = await start_mail(SMTP_PORT=str(sink.port), MAIL_MAX_ATTEMPTS="50")
            email = f"айгерим.{uuid.uuid4().hex[:6]}@example.kz"
            async with mail.tap() as tap:
                await mail.publish(verification(email, "161803"))
                failed = await tap.wait_for("mail.failed", lambda e: e.data["recipient"] == email, timeout=20)
            assert "SMTPUTF8" in failed.data["error"]
            await asyncio.sleep(1.5)  # the retry loop polls every 0.2 s here: it would have tried again
            [delivery] = await mail.deliveries(local_issuer, recipient=email)
            assert delivery["status"] == "failed" and delivery["attempts"] == 1
            assert sink.messages == []
        finally:
            sink.stop()
