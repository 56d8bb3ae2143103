"""Signup answers the token pair next to the profile; an unverified token is refused where a
verified address is required, until the address is confirmed and the token refreshed."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx

from docflow_dev.testing.events import EventTap

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestSignupTokens:
    async def test_signup_answers_tokens_that_wait_for_verification(
        self, client: httpx.AsyncClient, events: EventTap
    ) -> None:
        email = f"newcomer.{uuid.uuid4().hex[:8]}@example.kz"
        created = await client.post(f"{API}/auth/signup", json={
            "email": email, "password": PASSWORD, "full_name": "Новичок Тестов", "locale": "en"})
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["email"] == email and body["email_verified"] is False and body["id"]
        assert body["token_type"] == "Bearer" and body["expires_in"] == 900
        claims = claims_of(body["access_token"])
        assert claims["sub"] == body["id"] and claims["email_verified"] is False and claims["sid"]

        me = await client.get(f"{API}/users/me", headers=bearer(body["access_token"]))
        assert me.status_code == 200 and me.json()["id"] == body["id"]
        refused = await client.post(f"{API}/documents", json={"title": "Договор"},
                                    headers=bearer(body["access_token"]))
        assert refused.status_code == 403, refused.text
        assert refused.json()["type"].endswith("email-not-verified")

        requested = await events.wait_for("user.email_verification_requested",
                                          lambda e: e.data["user_id"] == body["id"])
        verified = await client.post(f"{API}/auth/email/verify",
                                     json={"email": email, "code": requested.data["code"]})
        assert verified.status_code == 200, verified.text
        rotated = await client.post(f"{API}/auth/refresh", json={"refresh_token": body["refresh_token"]})
        assert rotated.status_code == 200, rotated.text
        fresh = rotated.json()["access_token"]
        assert claims_of(fresh)["email_verified"] is True
        document = await client.post(f"{API}/documents", json={"title": "Договор"}, headers=bearer(fresh))
        assert document.status_code == 201, document.text
