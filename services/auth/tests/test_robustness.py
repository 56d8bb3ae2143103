"""Whatever a client sends, auth answers with a 4xx problem, never a 500."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from auth_testkit import API, AuthApi, unique_email

from docflow_dev.testing.asserts import assert_problem

ROUTES: list[tuple[str, str]] = [
    ("POST", "/auth/signup"), ("GET", "/auth/availability"), ("POST", "/auth/email/verify"),
    ("GET", "/auth/email/verify"), ("POST", "/auth/email/resend"), ("POST", "/auth/login"),
    ("POST", "/auth/refresh"), ("POST", "/auth/logout"), ("POST", "/auth/password/forgot"),
    ("POST", "/auth/password/reset"), ("GET", "/users/me"), ("PATCH", "/users/me"), ("DELETE", "/users/me"),
    ("POST", "/users/me/password"), ("POST", "/users/me/email"), ("GET", "/users/lookup"),
    ("GET", "/users/me/sessions"), ("DELETE", "/users/me/sessions/x"), ("GET", "/admin/users"),
    ("GET", "/admin/users/x"), ("PATCH", "/admin/users/x"), ("POST", "/admin/users/x/unlock"),
]

BODIES: list[dict[str, Any]] = [
    {"content": b"{"},
    {"content": b"[]", "headers": {"Content-Type": "application/json"}},
    {"content": b"null", "headers": {"Content-Type": "application/json"}},
    {"content": b'"text"', "headers": {"Content-Type": "application/json"}},
    {"content": b"email=a@b.kz", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    {"json": {"email": {"$ne": None}, "password": {"$gt": ""}, "code": ["1"], "token": {"$regex": "."},
              "refresh_token": 12, "new_password": None, "full_name": "x" * 5000, "role": "admin"}},
    {"json": {"email": "a" * 400 + "@example.com", "password": "p" * 5000, "code": "1" * 7}},
    {"json": {"refresh_token": "a.b.c.d", "email": "\x00@example.com"}},
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_junk_never_causes_a_500(method: str, path: str, api: AuthApi, http: httpx.AsyncClient) -> None:
    account = await api.account(verified=False)
    for headers in ({}, account.headers, {"Authorization": "Bearer a.b.c"}):
        for body in BODIES:
            extra = {**body, "headers": {**body.get("headers", {}), **headers}}
            response = await http.request(method, f"{API}{path}", params={"email": "x", "q": "(", "cursor": "!"},
                                          **extra)
            assert response.status_code < 500, (method, path, body, response.text)
            if response.status_code >= 400:
                assert response.headers["content-type"].startswith("application/problem+json"), (
                    method, path, body, headers, response.status_code, response.text)


async def test_concurrent_verifications_of_one_email_leave_one_owner(api: AuthApi, http: httpx.AsyncClient) -> None:
    """Unverified accounts may share an address; when they verify it at once, one wins and the
    others lose it (the address is unique among verified accounts)."""
    email = unique_email("race")
    signups = await asyncio.gather(*(api.signup(email if i % 2 else email.upper()) for i in range(4)))
    assert [r.status_code for r in signups] == [201] * 4, [r.text for r in signups]
    ids = [r.json()["id"] for r in signups]
    codes = [(await api.verification_event(user_id)).data["code"] for user_id in ids]
    verified = await asyncio.gather(*(http.post(f"{API}/auth/email/verify", json={"email": email, "code": code})
                                      for code in codes))
    statuses = [r.status_code for r in verified]
    assert statuses.count(200) == 1, [r.text for r in verified]
    for response in verified:
        if response.status_code != 200:
            assert_problem(response, 400 if response.status_code == 400 else 409)
    assert (await api.login(email)).status_code == 200
