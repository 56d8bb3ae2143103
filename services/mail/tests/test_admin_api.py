"""Admin API of the delivery log: who may call it, filters, pagination, retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.mail import MailUnderTest, StartMail, address, wait_for_mail
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared.events.catalogue import UserPasswordChanged, UserRegistered

PATH = "/api/v1/admin/mail/deliveries"


def admin(issuer: LocalIssuer) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.token('admin-1', role='admin')}"}


def welcome(email: str) -> UserRegistered:
    return UserRegistered(user_id="u", email=email, full_name="Ann", locale="en")


class TestAccess:
    async def test_needs_a_token(self, mail: MailUnderTest) -> None:
        async with httpx.AsyncClient(base_url=mail.url) as http:
            response = await http.get(PATH)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")

    async def test_needs_the_admin_role(self, mail: MailUnderTest, local_issuer: LocalIssuer) -> None:
        async with httpx.AsyncClient(base_url=mail.url) as http:
            token = local_issuer.token("u1", role="user")
            listed = await http.get(PATH, headers={"Authorization": f"Bearer {token}"})
            retried = await http.post(f"{PATH}/x/retry", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 403
        assert retried.status_code == 403


class TestList:
    async def test_filters_by_recipient_and_status(self, mail: MailUnderTest, smtp_sink: SmtpSink,
                                                   local_issuer: LocalIssuer) -> None:
        email = address("filter")
        await mail.publish(welcome(email))
        await mail.publish(UserPasswordChanged(user_id="u", email=email, full_name="Ann", locale="ru",
                                               changed_at=datetime.now(UTC)))
        await wait_for_mail(smtp_sink, email, count=2)
        async with httpx.AsyncClient(base_url=mail.url, headers=admin(local_issuer)) as http:
            rows = await eventually(lambda: _items(http, recipient=email.upper(), status="sent", count=2))
            assert {r["template"] for r in rows} == {"welcome", "password_changed"}
            assert all(r["recipient"] == email for r in rows)
            none = await http.get(PATH, params={"recipient": email, "status": "failed"})
            assert none.json()["items"] == []
            bad = await http.get(PATH, params={"status": "lost"})
            assert bad.status_code == 422

    async def test_cursor_pagination_walks_every_row_once(self, mail: MailUnderTest, smtp_sink: SmtpSink,
                                                          local_issuer: LocalIssuer) -> None:
        email = address("pages")
        for _ in range(5):
            await mail.publish(welcome(email))
        await wait_for_mail(smtp_sink, email, count=5)
        async with httpx.AsyncClient(base_url=mail.url, headers=admin(local_issuer)) as http:
            await eventually(lambda: _items(http, recipient=email, status="sent", count=5))
            seen: list[str] = []
            cursor = None
            for _ in range(10):
                params = {"recipient": email, "limit": "2", **({"cursor": cursor} if cursor else {})}
                page = (await http.get(PATH, params=params)).json()
                seen += [r["id"] for r in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert len(seen) == 5 and len(set(seen)) == 5
            assert seen == sorted(seen, reverse=True)  # newest first
            broken = await http.get(PATH, params={"cursor": "%%%not-a-cursor"})
            assert broken.status_code == 400


async def _items(http: httpx.AsyncClient, *, count: int, **params: str) -> list[dict[str, Any]] | None:
    items: list[dict[str, Any]] = (await http.get(PATH, params=params)).json()["items"]
    return items if len(items) == count else None


class TestRetry:
    async def test_unknown_delivery_is_404(self, mail: MailUnderTest, local_issuer: LocalIssuer) -> None:
        async with httpx.AsyncClient(base_url=mail.url, headers=admin(local_issuer)) as http:
            response = await http.post(f"{PATH}/no-such-id/retry")
        assert response.status_code == 404

    async def test_a_sent_delivery_is_not_sent_again(self, mail: MailUnderTest, smtp_sink: SmtpSink,
                                                     local_issuer: LocalIssuer) -> None:
        email = address("once")
        await mail.publish(welcome(email))
        await wait_for_mail(smtp_sink, email)
        async with httpx.AsyncClient(base_url=mail.url, headers=admin(local_issuer)) as http:
            [row] = await eventually(lambda: _items(http, recipient=email, status="sent", count=1))
            response = await http.post(f"{PATH}/{row['id']}/retry")
        assert response.status_code == 409
        assert len(smtp_sink.to(email)) == 1

    async def test_a_failed_delivery_is_sent_after_the_fix(
        self, start_mail: StartMail, own_sink: Callable[..., SmtpSink], local_issuer: LocalIssuer
    ) -> None:
        sink = own_sink().start()
        sink.reject_with = "550 5.7.1 relaying denied"
        mail = await start_mail(SMTP_PORT=str(sink.port))
        email = address("fixed")
        await mail.publish(welcome(email))
        async with httpx.AsyncClient(base_url=mail.url, headers=admin(local_issuer)) as http:
            [row] = await eventually(lambda: _items(http, recipient=email, status="failed", count=1))
            sink.reject_with = None
            async with mail.tap() as tap:
                response = await http.post(f"{PATH}/{row['id']}/retry")
                assert response.status_code == 202
                assert response.json()["status"] == "pending"
                await wait_for_mail(sink, email)
                await tap.wait_for("mail.sent", lambda e: e.data["delivery_id"] == row["id"])
            [sent] = await eventually(lambda: _items(http, recipient=email, status="sent", count=1))
        assert sent["id"] == row["id"] and sent["attempts"] == 1
