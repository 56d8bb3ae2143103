"""Accounts made as a person makes one, through the gateway: sign up, verify the address with the
code auth sent, log in; and the test CA trusted by a signing service started with its defaults."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import httpx

from docflow_dev.testing.events import EventTap

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"



@dataclass(frozen=True)
class Account:
    id: str
    email: str
    headers: dict[str, str]


async def sign_up(client: httpx.AsyncClient, events: EventTap, full_name: str, *, locale: str = "en",
                  email: str | None = None) -> Account:
    """Sign up, verify with the code auth sent (read from ``events``) and log in; the account and
    its bearer headers."""
    email = email or f"{full_name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:8]}@example.com"
    created = await client.post(f"{API}/auth/signup", json={
        "email": email, "password": PASSWORD, "full_name": full_name, "locale": locale})
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    code = await events.wait_for("user.email_verification_requested", lambda e: e.data["user_id"] == user_id)
    verified = await client.post(f"{API}/auth/email/verify", json={"email": email, "code": code.data["code"]})
    assert verified.status_code == 200, verified.text
    login = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return Account(id=user_id, email=email, headers={"Authorization": f"Bearer {login.json()['access_token']}"})


def trust_in_default_dir(platform_env: dict[str, str], ca_pem: bytes, stem: str) -> None:
    """Put a CA certificate in the signing service's default trust directory ($DATA_DIR/signing/trust)."""
    trust = os.path.join(platform_env["DATA_DIR"], "signing", "trust")
    os.makedirs(trust, exist_ok=True)
    with open(os.path.join(trust, f"{stem}.pem"), "wb") as handle:
        handle.write(ca_pem)
