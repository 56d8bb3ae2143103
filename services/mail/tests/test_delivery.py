"""Events in, e-mails out: the real service process, RabbitMQ and an aiosmtpd sink."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx

from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.mail import (
    MailUnderTest,
    address,
    html_part,
    link_token,
    text_part,
    verification_code,
    wait_for_mail,
)
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared.events import Person, new_event
from docflow_shared.events.catalogue import (
    DocumentCompleted,
    RouteExternalInvited,
    UserDeleted,
    UserEmailVerificationRequested,
    UserLocked,
    UserRegistered,
)


def verification(email: str, *, locale: str = "ru", code: str = "493817") -> UserEmailVerificationRequested:
    return UserEmailVerificationRequested(
        user_id="u-" + email.split("@")[0], email=email, full_name="Айгерим Нурланова", locale=locale,
        code=code, token="tok_" + code, expires_at=datetime.now(UTC) + timedelta(minutes=10),
    )


class TestVerificationEmail:
    async def test_code_is_in_the_html_and_the_text_part(self, mail: MailUnderTest, smtp_sink: SmtpSink) -> None:
        email = address("verify")
        await mail.publish(verification(email, locale="en", code="493817"))
        [message] = await wait_for_mail(smtp_sink, email)
        assert verification_code(message) == "493817"
        assert "493817" in text_part(message)
        assert "493817" in html_part(message)
        assert link_token(message, "/api/v1/auth/email/verify") == "tok_493817"
        assert "http://docflow.test/api/v1/auth/email/verify?token=tok_493817" in text_part(message)
        assert message["From"] == "DocFlow <no-reply@docflow.test>"
        assert message.get_content_type() == "multipart/alternative"

    async def test_russian_for_locale_ru(self, mail: MailUnderTest, smtp_sink: SmtpSink) -> None:
        email = address("ru")
        await mail.publish(verification(email, locale="ru", code="111222"))
        [message] = await wait_for_mail(smtp_sink, email)
        assert message["Subject"] == "Код подтверждения DocFlow: 111222"
        assert "Здравствуйте, Айгерим Нурланова!" in text_part(message)
        assert 'lang="ru"' in html_part(message)
        assert "Подтвердить адрес" in html_part(message)

    async def test_english_for_locale_en(self, mail: MailUnderTest, smtp_sink: SmtpSink) -> None:
        email = address("en")
        await mail.publish(verification(email, locale="en", code="333444"))
        [message] = await wait_for_mail(smtp_sink, email)
        assert message["Subject"] == "Your DocFlow confirmation code: 333444"
        assert "Hello Айгерим Нурланова," in text_part(message)
        assert not re.search("[а-яА-Я]", text_part(message).replace("Айгерим Нурланова", ""))

    async def test_html_is_escaped_and_styles_inlined(self, mail: MailUnderTest, smtp_sink: SmtpSink) -> None:
        email = address("xss")
        await mail.publish(UserRegistered(user_id="u-x", email=email, full_name="<script>alert(1)</script>",
                                          locale="en"))
        [message] = await wait_for_mail(smtp_sink, email)
        html = html_part(message)
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<style" not in html and 'style="' in html
        assert "Hello <script>alert(1)</script>," in text_part(message)


class TestIdempotency:
    async def test_same_event_twice_sends_one_email(self, mail: MailUnderTest, smtp_sink: SmtpSink,
                                                    local_issuer: LocalIssuer) -> None:
        email = address("twice")
        event = new_event(verification(email, code="555666"), producer="auth")
        await mail.publish(event)
        await wait_for_mail(smtp_sink, email)
        await mail.publish(event)
        marker = address("after-twice")
        await mail.publish(verification(marker))
        await wait_for_mail(smtp_sink, marker)
        await asyncio.sleep(0.5)
        assert len(smtp_sink.to(email)) == 1
        logged = await mail.deliveries(local_issuer, recipient=email)
        assert len(logged) == 1
        assert logged[0]["event_id"] == str(event.id)
        assert logged[0]["status"] == "sent"
        assert logged[0]["attempts"] == 1

    async def test_a_burst_of_duplicates_still_sends_one(self, mail: MailUnderTest, smtp_sink: SmtpSink) -> None:
        email = address("burst")
        event = new_event(verification(email, code="777888"), producer="auth")
        await asyncio.gather(*(mail.publish(event) for _ in range(5)))
        await wait_for_mail(smtp_sink, email)
        await asyncio.sleep(1.0)
        assert len(smtp_sink.to(email)) == 1


class TestRecipients:
    async def test_document_completed_reaches_every_participant_once(
        self, mail: MailUnderTest, smtp_sink: SmtpSink
    ) -> None:
        owner = Person(user_id="o", email=address("owner"), full_name="Owner", locale="en")
        signer = Person(user_id="s", email=address("signer"), full_name="Signer", locale="ru")
        await mail.publish(DocumentCompleted(
            document_id="doc1", request_id="r1", title="Договор №7", owner=owner,
            participants=[owner, signer], completed_at=datetime.now(UTC)))
        [to_owner] = await wait_for_mail(smtp_sink, owner.email)
        [to_signer] = await wait_for_mail(smtp_sink, signer.email)
        assert to_owner["Subject"] == "“Договор №7” is signed by everyone"
        assert to_signer["Subject"] == "Документ «Договор №7» подписан всеми"
        assert "http://docflow.test/documents/doc1" in text_part(to_signer)
        for message in (to_owner, to_signer):  # the evidence report, under the public base URL
            assert "http://docflow.test/api/v1/documents/doc1/evidence" in text_part(message)
            assert 'href="http://docflow.test/api/v1/documents/doc1/evidence"' in html_part(message)
        await asyncio.sleep(0.5)
        assert len(smtp_sink.to(owner.email)) == 1


class TestOutsiderReminders:
    async def test_a_reminder_invitation_says_reminder_in_both_languages(
        self, mail: MailUnderTest, smtp_sink: SmtpSink
    ) -> None:
        owner = Person(user_id="o", email=address("owner"), full_name="Olga", locale="en")
        for locale, prefix in (("en", "Reminder: "), ("ru", "Напоминание: ")):
            outsider = address(f"outsider-{locale}")
            link = f"http://docflow.test/api/v1/external/tok-{locale}"
            await mail.publish(RouteExternalInvited(
                user_id=f"lnk_{locale}", request_id="r1", document_id="doc1", title="Supply contract",
                owner=owner, recipient=Person(user_id="", email=outsider, locale=locale), role="sign",
                link=link, expires_at=datetime.now(UTC) + timedelta(days=14), reminder=True))
            [message] = await wait_for_mail(smtp_sink, outsider)
            assert str(message["Subject"]).startswith(prefix), message["Subject"]
            assert link in text_part(message) and f'href="{link}"' in html_part(message)
            assert prefix.strip() in html_part(message)


class TestPublishedEvents:
    async def test_mail_sent_is_published(self, mail: MailUnderTest, smtp_sink: SmtpSink) -> None:
        email = address("sent")
        async with mail.tap() as tap:
            event = await mail.publish(UserLocked(user_id="u", email=email, full_name="Ann", locale="en",
                                                  locked_until=datetime.now(UTC) + timedelta(minutes=15),
                                                  failed_attempts=5))
            sent = await tap.wait_for("mail.sent", lambda e: e.data["recipient"] == email)
        assert sent.data["event_id"] == str(event.id)
        assert sent.data["template"] == "account_locked"
        assert sent.causation_id == event.id
        [message] = await wait_for_mail(smtp_sink, email)
        assert "5 failed sign-in attempts" in text_part(message)


class TestReadiness:
    async def test_ready_reports_broker_and_database(self, mail: MailUnderTest) -> None:
        async with httpx.AsyncClient(base_url=mail.url) as http:
            response = await http.get("/ready")
        assert response.status_code == 200
        assert response.json()["checks"] == {"database": "up", "broker": "up"}

    async def test_mail_log_records_the_delivery(self, mail: MailUnderTest, smtp_sink: SmtpSink,
                                                 local_issuer: LocalIssuer) -> None:
        email = address("log")
        event = await mail.publish(verification(email, locale="en"))
        await wait_for_mail(smtp_sink, email)
        [row] = await eventually(lambda: mail.deliveries(local_issuer, recipient=email, status="sent"))
        assert row["template"] == "email_verification"
        assert row["locale"] == "en"
        assert row["event_id"] == str(event.id)
        assert row["event_type"] == "user.email_verification_requested"
        assert row["sent_at"] is not None and row["created_at"] is not None
        assert row["last_error"] is None


class TestUserDeleted:
    async def test_the_log_forgets_a_deleted_user(self, mail: MailUnderTest, smtp_sink: SmtpSink,
                                                  local_issuer: LocalIssuer) -> None:
        email, other = address("gone"), address("stays")
        await mail.publish(UserRegistered(user_id="u-gone", email=email, full_name="Gone", locale="en"))
        await mail.publish(UserRegistered(user_id="u-stays", email=other, full_name="Stays", locale="en"))
        await wait_for_mail(smtp_sink, email)
        await wait_for_mail(smtp_sink, other)
        await eventually(lambda: mail.deliveries(local_issuer, recipient=email, status="sent"))
        await mail.publish(UserDeleted(user_id="u-gone", deleted_at=datetime.now(UTC)))
        erased = await eventually(lambda: mail.deliveries(local_issuer, recipient="erased:u-gone"))
        assert [row["template"] for row in erased] == ["welcome"]
        assert await mail.deliveries(local_issuer, recipient=email) == []
        assert len(await mail.deliveries(local_issuer, recipient=other)) == 1
