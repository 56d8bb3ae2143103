"""A newcomer's first minutes through the gateway, with every service running: sign up, get the
code by e-mail (a real SMTP server in the test), confirm with it, log in, share a document and
the colleague hears about it by e-mail too."""

from __future__ import annotations

import uuid

import httpx
import pytest

from docflow_dev.testing.mail import html_part, is_to, text_part, verification_code
from docflow_dev.testing.smtp import SmtpSink

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"


async def sign_up(client: httpx.AsyncClient, smtp_sink: SmtpSink, name: str, locale: str) -> dict[str, str]:
    email = f"{name.lower()}.{uuid.uuid4().hex[:8]}@example.kz"
    created = await client.post(f"{API}/auth/signup", json={
        "email": email, "password": PASSWORD, "full_name": name, "locale": locale})
    assert created.status_code == 201, created.text
    message = smtp_sink.wait_for(lambda m: is_to(m, email) and verification_code_or_none(m) is not None, 30)
    code = verification_code(message)
    assert code in text_part(message) and code in html_part(message)
    verified = await client.post(f"{API}/auth/email/verify", json={"email": email, "code": code})
    assert verified.status_code == 200, verified.text
    login = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"id": created.json()["id"], "email": email, "token": login.json()["access_token"],
            "subject": str(message["Subject"])}


def verification_code_or_none(message: object) -> str | None:
    try:
        return verification_code(message)  # type: ignore[arg-type]
    except AssertionError:
        return None


@pytest.mark.parametrize(("locale", "subject_word"), [("ru", "код"), ("en", "code")])
async def test_signup_code_arrives_by_mail_in_the_users_language_and_confirms_the_address(
    client: httpx.AsyncClient, smtp_sink: SmtpSink, locale: str, subject_word: str
) -> None:
    user = await sign_up(client, smtp_sink, f"Mail{locale}", locale)
    assert subject_word in user["subject"].lower()
    me = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {user['token']}"})
    assert me.status_code == 200
    assert me.json()["email_verified"] is True and me.json()["locale"] == locale


async def test_a_shared_document_reaches_the_colleague_by_mail_and_inbox(
    client: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    owner = await sign_up(client, smtp_sink, "Owner", "en")
    colleague = await sign_up(client, smtp_sink, "Colleague", "ru")
    auth = {"Authorization": f"Bearer {owner['token']}"}
    created = await client.post(f"{API}/documents", headers=auth,
                                json={"title": "Договор поставки", "content": "Текст договора"})
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    shared = await client.post(f"{API}/documents/{document_id}/share", headers=auth, json={
        "recipients": [colleague["email"]], "permission": "comment", "message": "Посмотрите, пожалуйста"})
    assert shared.status_code in (200, 201), shared.text
    notice = smtp_sink.wait_for(lambda m: is_to(m, colleague["email"]) and "Договор поставки" in text_part(m), 30)
    assert "Посмотрите, пожалуйста" in text_part(notice)
    inbox = await client.get(f"{API}/inbox", headers={"Authorization": f"Bearer {colleague['token']}"})
    assert inbox.status_code == 200
    assert any(item["document_id"] == document_id for item in inbox.json()["items"])
