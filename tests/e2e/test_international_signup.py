"""Internationalised e-mail addresses sign up and get their code by e-mail (services/mail/README.md):
the local part under SMTPUTF8, the domain in its IDNA form."""

from __future__ import annotations

import uuid

import httpx
import idna
import pytest

from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.mail import verification_code
from docflow_dev.testing.smtp import SmtpSink

API = "/api/v1"


@pytest.mark.parametrize(("local", "domain"), [("айгерим", "example.kz"), ("x", "мысал.қаз")])
async def test_an_internationalised_address_signs_up_and_confirms_with_the_mailed_code(
    client: httpx.AsyncClient, smtp_sink: SmtpSink, local: str, domain: str
) -> None:
    email = f"{local}.{uuid.uuid4().hex[:6]}@{domain}"
    created = await client.post(f"{API}/auth/signup", json={
        "email": email, "password": "Sturdy-Kettle-47", "full_name": "Айгерим", "locale": "ru"})
    assert created.status_code == 201, created.text
    wire = f"{email.split('@')[0]}@{idna.encode(domain, uts46=True).decode()}"

    def code_message() -> object:
        with smtp_sink.lock:
            pairs = list(zip(smtp_sink.envelope_recipients, smtp_sink.messages, strict=True))
        return next((m for rcpts, m in pairs if wire in rcpts and "код" in str(m["Subject"]).lower()), None)

    message = await eventually(code_message, timeout=30)
    verified = await client.post(f"{API}/auth/email/verify",
                                 json={"email": email, "code": verification_code(message)})  # type: ignore[arg-type]
    assert verified.status_code == 200, verified.text
