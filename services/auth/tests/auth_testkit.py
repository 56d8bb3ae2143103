"""Helpers for the auth tests: what a client does, step by step, and problem+json checks."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from docflow_auth.security.identifiers import iin_check_digit
from docflow_dev.testing.events import EventTap
from docflow_shared.events import Event

PASSWORD = "Sturdy-Kettle-47"
API = "/api/v1"


def unique_email(tag: str = "user") -> str:
    return f"{tag}.{uuid.uuid4().hex[:10]}@example.com"


def valid_iin() -> str:
    while True:
        head = f"{random.randint(60, 99):02d}{random.randint(1, 12):02d}{random.randint(1, 28):02d}" \
               f"{random.randint(3, 6)}{random.randint(0, 9999):04d}"
        digit = iin_check_digit(head)
        if digit is not None:
            return head + str(digit)


def valid_kz_phone() -> str:
    return f"+7701{random.randint(0, 9999999):07d}"


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def header_of(token: str) -> dict[str, Any]:
    head = token.split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    return decoded


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}



@dataclass
class Account:
    email: str
    password: str
    id: str = ""
    access_token: str = ""
    refresh_token: str = ""
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


@dataclass
class AuthApi:
    """What a client does, step by step, against ``base_url``."""

    http: httpx.AsyncClient
    events: EventTap

    async def signup(self, email: str | None = None, password: str = PASSWORD, **extra: Any) -> httpx.Response:
        body = {"email": email or unique_email(), "password": password, "full_name": "Айгерим Тестова", **extra}
        return await self.http.post(f"{API}/auth/signup", json=body)

    async def verification_event(self, user_id: str, after: Event | None = None) -> Event:
        return await self.events.wait_for(
            "user.email_verification_requested",
            lambda e: e.data["user_id"] == user_id and (after is None or e.occurred_at > after.occurred_at),
        )

    async def login(self, email: str, password: str = PASSWORD, **extra: Any) -> httpx.Response:
        return await self.http.post(f"{API}/auth/login", json={"email": email, "password": password, **extra})

    async def refresh(self, token: str) -> httpx.Response:
        return await self.http.post(f"{API}/auth/refresh", json={"refresh_token": token})

    async def account(self, *, verified: bool = True, email: str | None = None, **extra: Any) -> Account:
        """A new account, verified with the code from its event, logged in."""
        response = await self.signup(email, **extra)
        assert response.status_code == 201, response.text
        created = response.json()
        account = Account(email=created["email"], password=PASSWORD, id=created["id"], profile=created)
        if verified:
            event = await self.verification_event(account.id)
            verify = await self.http.post(f"{API}/auth/email/verify",
                                          json={"email": account.email, "code": event.data["code"]})
            assert verify.status_code == 200, verify.text
        return await self.log_in(account)

    async def log_in(self, account: Account) -> Account:
        response = await self.login(account.email, account.password)
        assert response.status_code == 200, response.text
        tokens = response.json()
        account.access_token, account.refresh_token = tokens["access_token"], tokens["refresh_token"]
        return account


async def run_cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "docflow_auth.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode()
