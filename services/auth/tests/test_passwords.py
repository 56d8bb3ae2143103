"""Forgot / reset password and change password."""

from __future__ import annotations

import httpx
from auth_testkit import API, PASSWORD, AuthApi, unique_email

from docflow_dev.testing.asserts import assert_problem
from docflow_dev.testing.events import EventTap

NEW_PASSWORD = "Fresh-Lantern-2031"


class TestForgotAndReset:
    async def test_reset_sets_password_once_and_ends_every_session(
        self, api: AuthApi, http: httpx.AsyncClient, events: EventTap
    ) -> None:
        account = await api.account()
        forgot = await http.post(f"{API}/auth/password/forgot", json={"email": account.email.upper()})
        assert forgot.status_code == 202
        requested = await events.wait_for("user.password_reset_requested",
                                          lambda e: e.data["user_id"] == account.id)
        token = requested.data["token"]

        weak = await http.post(f"{API}/auth/password/reset", json={"token": token, "new_password": "short"})
        assert assert_problem(weak, 422)["errors"][0]["field"] == "new_password"
        done = await http.post(f"{API}/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD})
        assert done.status_code == 204, done.text
        changed = await events.wait_for("user.password_changed", lambda e: e.data["user_id"] == account.id)
        assert changed.data["reason"] == "reset"

        again = await http.post(f"{API}/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD})
        assert_problem(again, 400)
        assert_problem(await api.refresh(account.refresh_token), 401)
        assert_problem(await api.login(account.email, PASSWORD), 401)
        assert (await api.login(account.email, NEW_PASSWORD)).status_code == 200

    async def test_forgot_is_202_for_unknown_emails_and_sends_nothing(
        self, http: httpx.AsyncClient, events: EventTap
    ) -> None:
        email = unique_email("nobody")
        response = await http.post(f"{API}/auth/password/forgot", json={"email": email})
        assert response.status_code == 202
        assert not [e for e in events.of_type("user.password_reset_requested") if e.data["email"] == email]

    async def test_bad_tokens_are_400_and_bad_bodies_422(self, http: httpx.AsyncClient) -> None:
        response = await http.post(f"{API}/auth/password/reset", json={"token": "x" * 43, "new_password": NEW_PASSWORD})
        assert_problem(response, 400)
        assert_problem(await http.post(f"{API}/auth/password/reset", json={"token": "x"}), 422)
        assert_problem(await http.post(f"{API}/auth/password/forgot", json={"email": "not-mail"}), 422)

    async def test_forgot_is_rate_limited_per_account(self, http: httpx.AsyncClient) -> None:
        email = unique_email("spam")
        statuses = [(await http.post(f"{API}/auth/password/forgot", json={"email": email})).status_code
                    for _ in range(5)]
        assert statuses == [202] * 5
        limited = await http.post(f"{API}/auth/password/forgot", json={"email": email})
        assert_problem(limited, 429)
        assert int(limited.headers["Retry-After"]) >= 1

    async def test_reset_unlocks_a_locked_account(self, api: AuthApi, http: httpx.AsyncClient,
                                                  events: EventTap) -> None:
        account = await api.account()
        for _ in range(5):
            await api.login(account.email, "Wrong-Password-77")
        assert_problem(await api.login(account.email), 423)
        await http.post(f"{API}/auth/password/forgot", json={"email": account.email})
        token = (await events.wait_for("user.password_reset_requested",
                                       lambda e: e.data["user_id"] == account.id)).data["token"]
        await http.post(f"{API}/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD})
        assert (await api.login(account.email, NEW_PASSWORD)).status_code == 200


class TestChangePassword:
    async def test_change_revokes_the_other_sessions_only(
        self, api: AuthApi, http: httpx.AsyncClient, events: EventTap
    ) -> None:
        account = await api.account()
        other = (await api.login(account.email)).json()
        response = await http.post(f"{API}/users/me/password", headers=account.headers,
                                   json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert response.status_code == 204, response.text
        changed = await events.wait_for("user.password_changed", lambda e: e.data["user_id"] == account.id)
        assert changed.data["reason"] == "changed"
        assert_problem(await api.refresh(other["refresh_token"]), 401)
        assert (await api.refresh(account.refresh_token)).status_code == 200
        assert (await api.login(account.email, NEW_PASSWORD)).status_code == 200

    async def test_wrong_current_password_and_weak_new_password(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        account = await api.account()
        wrong = await http.post(f"{API}/users/me/password", headers=account.headers,
                                json={"current_password": "Not-It-At-All-1", "new_password": NEW_PASSWORD})
        assert_problem(wrong, 403)
        weak = await http.post(f"{API}/users/me/password", headers=account.headers,
                               json={"current_password": PASSWORD, "new_password": "1234567890"})
        assert assert_problem(weak, 422)["errors"][0]["field"] == "new_password"
        assert_problem(await http.post(f"{API}/users/me/password",
                                       json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}), 401)

    async def test_a_logged_out_access_token_cannot_change_the_password(
        self, api: AuthApi, http: httpx.AsyncClient
    ) -> None:
        account = await api.account()
        assert (await http.post(f"{API}/auth/logout", json={"refresh_token": account.refresh_token})).status_code == 204
        response = await http.post(f"{API}/users/me/password", headers=account.headers,
                                   json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert assert_problem(response, 401)["type"].endswith("session-revoked")
        assert (await api.login(account.email, PASSWORD)).status_code == 200
