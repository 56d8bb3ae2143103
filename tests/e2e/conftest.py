"""What several end-to-end files do the same way, through the gateway."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping

import httpx
import pytest

from docflow_dev.testing.events import EventTap
from docflow_signing.crypto.devca import Issued, key_proof

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"

RegisterCertificate = Callable[[httpx.AsyncClient, Mapping[str, str], Issued], Awaitable[httpx.Response]]


async def register_with_proof(client: httpx.AsyncClient, headers: Mapping[str, str], issued: Issued) -> httpx.Response:
    """Upload ``issued``'s certificate as its holder does: sign a fresh challenge with its key."""
    challenge = await client.post(f"{API}/certificates/challenges", headers=dict(headers))
    assert challenge.status_code == 201, challenge.text
    text = challenge.json()["challenge"]
    proved = {**headers, "DocFlow-Key-Challenge": text, "DocFlow-Key-Proof": key_proof(text, issued)}
    return await client.post(f"{API}/certificates", json={"pem": issued.cert_pem.decode()}, headers=proved)


@pytest.fixture
def register_certificate() -> RegisterCertificate:
    return register_with_proof


@pytest.fixture
def verified_headers(client: httpx.AsyncClient, events: EventTap) -> Callable[..., Awaitable[dict[str, str]]]:
    """Sign up, verify with the code auth sent and log in, through the gateway; the bearer headers."""

    async def sign_up(full_name: str = "Test Signer", locale: str = "en") -> dict[str, str]:
        email = f"e2e.{uuid.uuid4().hex[:10]}@example.com"
        created = await client.post(f"{API}/auth/signup", json={
            "email": email, "password": PASSWORD, "full_name": full_name, "locale": locale})
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        code = await events.wait_for("user.email_verification_requested", lambda e: e.data["user_id"] == user_id)
        verified = await client.post(f"{API}/auth/email/verify", json={"email": email, "code": code.data["code"]})
        assert verified.status_code == 200, verified.text
        login = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['access_token']}"}

    return sign_up
