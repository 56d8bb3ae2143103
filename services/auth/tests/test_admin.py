"""Admin API: role rules, search and pagination, role change, block, unlock; the CLI admin."""

from __future__ import annotations

import uuid

import httpx
import pytest_asyncio
from auth_testkit import API, PASSWORD, Account, AuthApi, claims_of, run_cli, unique_email

from docflow_dev.testing.asserts import assert_problem
from docflow_dev.testing.events import EventTap


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def admin(base_url: str, auth_env: dict[str, str]) -> Account:
    """An admin made by the documented CLI command, logged in."""
    email = unique_email("admin")
    code, out = await run_cli(auth_env, "create-admin", "--email", email, "--password", PASSWORD,
                              "--full-name", "Главный Администратор")
    assert code == 0, out
    assert "created admin" in out
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        response = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert claims_of(token)["role"] == "admin" and claims_of(token)["email_verified"] is True
    return Account(email=email, password=PASSWORD, id=claims_of(token)["sub"], access_token=token,
                   refresh_token=response.json()["refresh_token"])


class TestCli:
    async def test_a_new_cli_admin_is_announced_as_verified(self, events: EventTap, auth_env: dict[str, str],
                                                            base_url: str) -> None:
        """Documents and signing reach only proven addresses; the CLI's admin has one from the start.
        (``base_url`` keeps auth running: its relay publishes what the CLI left in the outbox.)"""
        email = unique_email("announced")
        code, out = await run_cli(auth_env, "create-admin", "--email", email, "--password", PASSWORD)
        assert code == 0, out
        verified = await events.wait_for("user.email_verified", lambda e: e.data["email"] == email, timeout=20)
        registered = await events.wait_for("user.registered", lambda e: e.data["email"] == email)
        assert verified.data["user_id"] == registered.data["user_id"]

    async def test_cli_promotes_a_verified_account_and_ends_its_sessions(
        self, api: AuthApi, auth_env: dict[str, str], events: EventTap
    ) -> None:
        user = await api.account()
        code, out = await run_cli(auth_env, "create-admin", "--email", user.email.upper())
        assert code == 0 and "promoted" in out, out
        changed = await events.wait_for("user.role_changed", lambda e: e.data["user_id"] == user.id, timeout=20)
        assert changed.data["role"] == "admin" and changed.data["previous_role"] == "user"
        assert_problem(await api.refresh(user.refresh_token), 401)
        relogged = await api.log_in(user)
        assert claims_of(relogged.access_token)["role"] == "admin"
        assert claims_of(relogged.access_token)["email_verified"] is True

    async def test_cli_refuses_to_promote_an_unverified_account(self, api: AuthApi,
                                                                auth_env: dict[str, str]) -> None:
        user = await api.account(verified=False)
        code, out = await run_cli(auth_env, "create-admin", "--email", user.email)
        assert code == 2 and "not verified" in out, out
        assert (await api.refresh(user.refresh_token)).status_code == 200
        relogged = await api.log_in(user)
        assert claims_of(relogged.access_token)["role"] == "user"
        assert claims_of(relogged.access_token)["email_verified"] is False

    async def test_cli_refuses_a_weak_password(self, auth_env: dict[str, str]) -> None:
        code, out = await run_cli(auth_env, "create-admin", "--email", unique_email("weak"),
                                  "--password", "password123")
        assert code == 2 and "password" in out


class TestRoleRules:
    async def test_user_gets_403_admin_gets_200(self, api: AuthApi, admin: Account, http: httpx.AsyncClient) -> None:
        user = await api.account()
        assert_problem(await http.get(f"{API}/admin/users", headers=user.headers), 403)
        assert_problem(await http.get(f"{API}/admin/users/{user.id}", headers=user.headers), 403)
        assert_problem(await http.patch(f"{API}/admin/users/{user.id}", headers=user.headers,
                                        json={"role": "admin"}), 403)
        assert_problem(await http.get(f"{API}/admin/users"), 401)
        response = await http.get(f"{API}/admin/users", headers=admin.headers)
        assert response.status_code == 200 and "items" in response.json()


class TestAdminUsers:
    async def test_search_by_prefix_and_paginate(self, api: AuthApi, admin: Account, http: httpx.AsyncClient) -> None:
        tag = f"srch{uuid.uuid4().hex[:6]}"
        created = [await api.account(email=f"{tag}.{i}@example.com", verified=False) for i in range(3)]
        seen: list[str] = []
        cursor = None
        for _ in range(5):
            params = {"q": tag.upper(), "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = await http.get(f"{API}/admin/users", params=params, headers=admin.headers)
            assert page.status_code == 200, page.text
            seen += [u["id"] for u in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(a.id for a in created)
        by_name = await http.get(f"{API}/admin/users", params={"q": "айгерим", "limit": 200}, headers=admin.headers)
        assert by_name.status_code == 200 and by_name.json()["items"]
        assert_problem(await http.get(f"{API}/admin/users", params={"cursor": "%%%"}, headers=admin.headers), 400)
        assert_problem(await http.get(f"{API}/admin/users", params={"limit": 0}, headers=admin.headers), 422)

    async def test_get_and_unknown_ids(self, api: AuthApi, admin: Account, http: httpx.AsyncClient) -> None:
        user = await api.account()
        one = await http.get(f"{API}/admin/users/{user.id}", headers=admin.headers)
        assert one.status_code == 200 and one.json()["email"] == user.email and one.json()["blocked"] is False
        for bad in ("nope", "x" * 300, "%24ne"):
            assert_problem(await http.get(f"{API}/admin/users/{bad}", headers=admin.headers), 404)

    async def test_role_change_is_announced_and_reaches_the_tokens(
        self, api: AuthApi, admin: Account, http: httpx.AsyncClient, events: EventTap
    ) -> None:
        user = await api.account()
        response = await http.patch(f"{API}/admin/users/{user.id}", headers=admin.headers, json={"role": "admin"})
        assert response.status_code == 200 and response.json()["role"] == "admin"
        event = await events.wait_for("user.role_changed", lambda e: e.data["user_id"] == user.id)
        assert event.data == {"user_id": user.id, "role": "admin", "previous_role": "user", "blocked": False}
        refreshed = (await api.refresh(user.refresh_token)).json()
        assert claims_of(refreshed["access_token"])["role"] == "admin"
        assert_problem(await http.patch(f"{API}/admin/users/{user.id}", headers=admin.headers,
                                        json={"role": "root"}), 422)

    async def test_blocking_ends_sessions_and_login(self, api: AuthApi, admin: Account,
                                                    http: httpx.AsyncClient) -> None:
        user = await api.account()
        blocked = await http.patch(f"{API}/admin/users/{user.id}", headers=admin.headers, json={"blocked": True})
        assert blocked.status_code == 200 and blocked.json()["blocked"] is True
        assert_problem(await api.refresh(user.refresh_token), 401)
        assert assert_problem(await api.login(user.email), 403)["type"].endswith("account-blocked")
        me = await http.get(f"{API}/users/me", headers=user.headers)
        assert me.status_code in (401, 403), "403 from auth, or 401 once the revocation reached the verifier"
        await http.patch(f"{API}/admin/users/{user.id}", headers=admin.headers, json={"blocked": False})
        assert (await api.login(user.email)).status_code == 200

    async def test_admin_cannot_demote_or_block_self(self, admin: Account, http: httpx.AsyncClient) -> None:
        for body in ({"role": "user"}, {"blocked": True}):
            assert_problem(await http.patch(f"{API}/admin/users/{admin.id}",
                                            headers=admin.headers, json=body), 409)

    async def test_unlock_lifts_the_lockout(self, api: AuthApi, admin: Account, http: httpx.AsyncClient) -> None:
        user = await api.account()
        for _ in range(5):
            await api.login(user.email, "Wrong-Password-11")
        assert_problem(await api.login(user.email), 423)
        detail = (await http.get(f"{API}/admin/users/{user.id}", headers=admin.headers)).json()
        assert detail["locked_until"] is not None
        unlocked = await http.post(f"{API}/admin/users/{user.id}/unlock", headers=admin.headers)
        assert unlocked.status_code == 200 and unlocked.json()["locked_until"] is None
        assert (await api.login(user.email)).status_code == 200

