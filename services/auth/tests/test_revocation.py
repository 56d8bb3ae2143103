"""Revoked sessions and users are refused within seconds, by the gateway and by the services
themselves, although their access tokens have not expired."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import pytest_asyncio
from auth_testkit import API, PASSWORD, Account, AuthApi, bearer, claims_of, run_cli, unique_email

from docflow_dev.devstack import Stack

DEADLINE = 2.0


@pytest.fixture(scope="module")
def base_url(gateway_url: str) -> str:
    """Revocation is refused by the gateway and by other services: always the whole stack here,
    whatever DOCFLOW_TESTS_VIA says."""
    return gateway_url


@pytest.fixture(scope="module")
def auth_env(platform_env: dict[str, str]) -> dict[str, str]:
    """The session stack's auth, its events and its CLI."""
    return platform_env


async def refused_within(http: httpx.AsyncClient, url: str, token: str, seconds: float = DEADLINE) -> float:
    """Seconds until ``token`` is answered 401 on ``url``; fails if it takes longer than ``seconds``."""
    started = time.monotonic()
    while True:
        response = await http.get(url, headers=bearer(token))
        if response.status_code == 401:
            return time.monotonic() - started
        assert response.status_code == 200, response.text
        assert time.monotonic() - started < seconds, f"{url} still accepts the token"
        await asyncio.sleep(0.05)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def admin_token(base_url: str, platform_env: dict[str, str]) -> str:
    email = unique_email("revoker")
    code, out = await run_cli(platform_env, "create-admin", "--email", email, "--password", PASSWORD)
    assert code == 0, out
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        response = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def ready_account(api: AuthApi, http: httpx.AsyncClient, stack: Stack) -> Account:
    account = await api.account()
    assert (await http.get(f"{API}/documents", headers=account.headers)).status_code == 200
    direct = f"{stack.url('documents')}{API}/documents"
    assert (await http.get(direct, headers=account.headers)).status_code == 200
    return account


class TestRevocation:
    async def test_logout_refuses_the_access_token_at_gateway_and_service(
        self, api: AuthApi, http: httpx.AsyncClient, stack: Stack
    ) -> None:
        account = await ready_account(api, http, stack)
        assert (await http.post(f"{API}/auth/logout", headers=account.headers)).status_code == 204
        await refused_within(http, f"{API}/documents", account.access_token)
        await refused_within(http, f"{stack.url('documents')}{API}/documents", account.access_token)
        created = await http.post(f"{API}/documents", json={"title": "x"}, headers=account.headers)
        assert created.status_code == 401

    async def test_block_refuses_every_token_of_the_user(
        self, api: AuthApi, http: httpx.AsyncClient, stack: Stack, admin_token: str
    ) -> None:
        account = await ready_account(api, http, stack)
        blocked = await http.patch(f"{API}/admin/users/{account.id}", json={"blocked": True},
                                   headers=bearer(admin_token))
        assert blocked.status_code == 200, blocked.text
        await refused_within(http, f"{API}/documents", account.access_token)
        await refused_within(http, f"{stack.url('documents')}{API}/documents", account.access_token)

    async def test_deleted_user_cannot_create_documents(
        self, api: AuthApi, http: httpx.AsyncClient, stack: Stack
    ) -> None:
        account = await ready_account(api, http, stack)
        gone = await http.request("DELETE", f"{API}/users/me", json={"password": PASSWORD}, headers=account.headers)
        assert gone.status_code == 204, gone.text
        await refused_within(http, f"{API}/documents", account.access_token)
        direct = f"{stack.url('documents')}{API}/documents"
        await refused_within(http, direct, account.access_token)
        created = await http.post(direct, json={"title": "after deletion"}, headers=account.headers)
        assert created.status_code == 401

    async def test_password_change_refuses_other_sessions_and_keeps_its_own(
        self, api: AuthApi, http: httpx.AsyncClient, stack: Stack
    ) -> None:
        account = await ready_account(api, http, stack)
        other = (await api.login(account.email)).json()
        assert claims_of(other["access_token"])["sid"] != claims_of(account.access_token)["sid"]
        changed = await http.post(f"{API}/users/me/password", headers=account.headers,
                                  json={"current_password": PASSWORD, "new_password": "Another-Kettle-58"})
        assert changed.status_code in (200, 204), changed.text
        await refused_within(http, f"{API}/documents", other["access_token"])
        await refused_within(http, f"{stack.url('documents')}{API}/documents", other["access_token"])
        assert (await http.get(f"{API}/documents", headers=account.headers)).status_code == 200
