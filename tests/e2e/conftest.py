"""What several end-to-end files do the same way, through the gateway."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping

import httpx
import pytest

from docflow_dev.testing.accounts import sign_up
from docflow_dev.testing.events import EventTap
from docflow_signing.crypto.devca import Issued, key_proof

API = "/api/v1"

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

    async def signed_up(full_name: str = "Test Signer", locale: str = "en") -> dict[str, str]:
        made = await sign_up(client, events, full_name, locale=locale, email=f"e2e.{uuid.uuid4().hex[:10]}@example.com")
        return made.headers

    return signed_up
