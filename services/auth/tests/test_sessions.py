"""Login, refresh rotation and reuse detection, logout, lockout, session list, cookie transport."""

from __future__ import annotations

import asyncio
import time

import httpx
from auth_testkit import API, PASSWORD, AuthApi, bearer, claims_of, header_of, unique_email

from docflow_dev.testing.asserts import assert_problem
from docflow_dev.testing.events import EventTap


class TestLogin:
    async def test_full_flow_signup_verify_login_me_refresh_reuse_logout(
        self, api: AuthApi, http: httpx.AsyncClient
    ) -> None:
        account = await api.account()
        login = await api.login(account.email.upper())
        assert login.status_code == 200, login.text
        tokens = login.json()
        assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
        claims = claims_of(tokens["access_token"])
        assert header_of(tokens["access_token"])["alg"] == "ES256" and header_of(tokens["access_token"])["kid"]
        assert claims["sub"] == account.id and claims["role"] == "user" and claims["type"] == "access"
        assert claims["email_verified"] is True and claims["iss"] and claims["aud"] and claims["jti"]
        assert claims["exp"] - claims["iat"] == 900 and claims["sid"]

        me = await http.get(f"{API}/users/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200 and me.json()["id"] == account.id

        rotated = await api.refresh(tokens["refresh_token"])
        assert rotated.status_code == 200, rotated.text
        second = rotated.json()
        assert second["refresh_token"] != tokens["refresh_token"]
        assert claims_of(second["access_token"])["sid"] == claims["sid"]
        third = (await api.refresh(second["refresh_token"])).json()

        other = (await api.login(account.email)).json()

        reused = await api.refresh(tokens["refresh_token"])
        assert assert_problem(reused, 401)["type"].endswith("refresh-token-reused")
        assert_problem(await api.refresh(third["refresh_token"]), 401)
        still = await api.refresh(other["refresh_token"])
        assert still.status_code == 200, "reuse revokes that family only"

        logout = await http.post(f"{API}/auth/logout", json={"refresh_token": still.json()["refresh_token"]})
        assert logout.status_code == 204
        assert_problem(await api.refresh(still.json()["refresh_token"]), 401)

    async def test_unverified_account_logs_in_with_claim_false(self, api: AuthApi) -> None:
        account = await api.account(verified=False)
        assert claims_of(account.access_token)["email_verified"] is False

    async def test_wrong_password_and_unknown_email_look_the_same(self, api: AuthApi) -> None:
        account = await api.account()
        wrong = assert_problem(await api.login(account.email, "Not-The-Password-1"), 401)
        unknown = assert_problem(await api.login(unique_email("ghost")), 401)
        assert wrong["type"] == unknown["type"] and wrong["detail"] == unknown["detail"]

    async def test_unknown_email_costs_a_hash_verification(self, api: AuthApi) -> None:
        account = await api.account()
        started = time.perf_counter()
        await api.login(unique_email("ghost"))
        unknown = time.perf_counter() - started
        started = time.perf_counter()
        await api.login(account.email, "Not-The-Password-2")
        known = time.perf_counter() - started
        assert unknown > 0.01, "an unknown e-mail is verified against a dummy hash"
        assert unknown > known / 4

    async def test_garbage_refresh_tokens_are_401(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        account = await api.account()
        sid, generation, nonce, mac = account.refresh_token.split(".")
        for token in ["nope", f"{sid}.{generation}.{nonce}.{'A' * len(mac)}", f"{sid}.9.{nonce}.{mac}",
                      account.access_token, ""]:
            response = await http.post(f"{API}/auth/refresh", json={"refresh_token": token})
            assert_problem(response, 401)
        assert (await api.refresh(account.refresh_token)).status_code == 200, "forged tokens do not revoke"

    async def test_parallel_refreshes_within_the_grace_window_get_the_same_pair(
        self, api: AuthApi, http: httpx.AsyncClient
    ) -> None:
        account = await api.account()
        results = await asyncio.gather(*(api.refresh(account.refresh_token) for _ in range(4)))
        assert [r.status_code for r in results] == [200] * 4, [r.text for r in results]
        successors = {r.json()["refresh_token"] for r in results}
        assert len(successors) == 1, "every tab gets the same next refresh token"
        assert {claims_of(r.json()["access_token"])["sid"] for r in results} == {claims_of(account.access_token)["sid"]}
        successor = successors.pop()
        next_round = await api.refresh(successor)
        assert next_round.status_code == 200, "the session lives on"
        me = await http.get(f"{API}/users/me", headers=bearer(next_round.json()["access_token"]))
        assert me.status_code == 200

    async def test_reuse_after_the_grace_window_still_ends_the_session(self, api: AuthApi) -> None:
        account = await api.account()
        first = await api.refresh(account.refresh_token)
        assert first.status_code == 200
        await asyncio.sleep(2.5)  # the tests' grace window (AUTH_REFRESH_GRACE_SECONDS) runs out
        late = await api.refresh(account.refresh_token)
        assert assert_problem(late, 401)["type"].endswith("refresh-token-reused")
        assert_problem(await api.refresh(first.json()["refresh_token"]), 401)

    async def test_reuse_of_an_older_generation_ends_the_session_at_once(self, api: AuthApi) -> None:
        account = await api.account()
        first = await api.refresh(account.refresh_token)
        assert first.status_code == 200
        second = await api.refresh(first.json()["refresh_token"])
        assert second.status_code == 200
        reused = await api.refresh(account.refresh_token)
        assert assert_problem(reused, 401)["type"].endswith("refresh-token-reused")
        assert_problem(await api.refresh(second.json()["refresh_token"]), 401)


class TestLockout:
    async def test_five_failures_lock_the_account_and_announce_it(self, api: AuthApi, events: EventTap) -> None:
        account = await api.account()
        for _ in range(4):
            assert_problem(await api.login(account.email, "Wrong-Password-99"), 401)
        fifth = assert_problem(await api.login(account.email, "Wrong-Password-99"), 423)
        assert "locked" in fifth["title"].lower() or "locked" in fifth["detail"].lower()
        locked = await events.wait_for("user.locked", lambda e: e.data["user_id"] == account.id)
        assert locked.data["failed_attempts"] == 5
        response = await api.login(account.email)
        assert_problem(response, 423)
        assert int(response.headers["Retry-After"]) > 800

    async def test_parallel_guesses_get_exactly_the_threshold_of_password_checks(
        self, api: AuthApi, events: EventTap
    ) -> None:
        account = await api.account()
        guesses = await asyncio.gather(*(api.login(account.email, f"Wrong-Password-{n}") for n in range(15)))
        statuses = sorted(r.status_code for r in guesses)
        assert statuses == [401] * 4 + [423] * 11, statuses
        for response in guesses:
            if response.status_code == 423:
                assert_problem(response, 423)
                assert int(response.headers["Retry-After"]) >= 1
        locked = await events.wait_for("user.locked", lambda e: e.data["user_id"] == account.id)
        assert locked.data["failed_attempts"] == 5
        assert_problem(await api.login(account.email), 423)

    async def test_success_resets_the_failure_count(self, api: AuthApi) -> None:
        account = await api.account()
        for _ in range(4):
            await api.login(account.email, "Wrong-Password-99")
        assert (await api.login(account.email)).status_code == 200
        for _ in range(4):
            assert_problem(await api.login(account.email, "Wrong-Password-99"), 401)

    async def test_per_account_rate_limit_is_429_with_retry_after(self, api: AuthApi) -> None:
        # the limit counts in fixed 300 s windows (AUTH_LOGIN_RATE_WINDOW): start well inside one
        left = 300 - time.time() % 300
        if left < 30:
            await asyncio.sleep(left + 0.5)
        email = unique_email("throttled")
        statuses = [(await api.login(email, "Whatever-Pass-1")) for _ in range(21)]
        assert [r.status_code for r in statuses[:20]] == [401] * 20
        assert_problem(statuses[20], 429)
        assert int(statuses[20].headers["Retry-After"]) >= 1


class TestSessionList:
    async def test_list_and_revoke_own_sessions(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        account = await api.account()
        other = (await api.login(account.email)).json()
        listed = await http.get(f"{API}/users/me/sessions", headers=account.headers)
        assert listed.status_code == 200
        items = listed.json()["items"]
        assert len(items) == 3 and sum(1 for s in items if s["current"]) == 1, "signup, login, login"
        current_sid = claims_of(account.access_token)["sid"]
        other_sid = claims_of(other["access_token"])["sid"]
        assert {current_sid, other_sid} < {s["id"] for s in items}

        gone = await http.delete(f"{API}/users/me/sessions/{other_sid}", headers=account.headers)
        assert gone.status_code == 204
        assert_problem(await api.refresh(other["refresh_token"]), 401)
        assert_problem(await http.delete(f"{API}/users/me/sessions/{other_sid}", headers=account.headers), 404)
        stranger = await api.account()
        assert_problem(await http.delete(f"{API}/users/me/sessions/{current_sid}", headers=stranger.headers), 404)
        injected = f"{API}/users/me/sessions/%7B%22%24ne%22%3A1%7D"
        assert_problem(await http.delete(injected, headers=account.headers), 404)
        assert (await api.refresh(account.refresh_token)).status_code == 200

    async def test_logout_with_access_token_ends_its_session(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        account = await api.account()
        assert (await http.post(f"{API}/auth/logout", headers=account.headers)).status_code == 204
        assert_problem(await api.refresh(account.refresh_token), 401)
        assert_problem(await http.post(f"{API}/auth/logout"), 401)


class TestCookieTransport:
    async def test_cookie_login_refresh_and_logout_need_csrf(self, api: AuthApi, base_url: str) -> None:
        account = await api.account()
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as browser:
            login = await browser.post(f"{API}/auth/login",
                                       json={"email": account.email, "password": PASSWORD, "transport": "cookie"})
            assert login.status_code == 200, login.text
            body = login.json()
            assert body["access_token"] is None and body["refresh_token"] is None and body["transport"] == "cookie"
            cookies = login.headers.get_list("set-cookie")
            access = next(c for c in cookies if c.startswith("docflow_access="))
            refresh = next(c for c in cookies if c.startswith("docflow_refresh="))
            csrf_cookie = next(c for c in cookies if c.startswith("docflow_csrf="))
            for cookie in (access, refresh):
                assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
            assert "HttpOnly" not in csrf_cookie
            csrf = browser.cookies["docflow_csrf"]
            assert csrf == body["csrf_token"]

            me = await browser.get(f"{API}/users/me")
            assert me.status_code == 200 and me.json()["id"] == account.id
            assert_problem(await browser.patch(f"{API}/users/me", json={"full_name": "X"}), 403)
            patched = await browser.patch(f"{API}/users/me", json={"full_name": "Cookie Person"},
                                          headers={"X-CSRF-Token": csrf})
            assert patched.status_code == 200

            assert_problem(await browser.post(f"{API}/auth/refresh"), 403)
            assert_problem(await browser.post(f"{API}/auth/refresh", headers={"X-CSRF-Token": "forged"}), 403)
            old_refresh = browser.cookies["docflow_refresh"]
            rotated = await browser.post(f"{API}/auth/refresh", headers={"X-CSRF-Token": csrf})
            assert rotated.status_code == 200, rotated.text
            assert browser.cookies["docflow_refresh"] != old_refresh
            csrf = browser.cookies["docflow_csrf"]

            assert_problem(await browser.post(f"{API}/auth/logout"), 403)
            out = await browser.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf})
            assert out.status_code == 204
            cleared = out.headers.get_list("set-cookie")
            assert any(c.startswith("docflow_refresh=") and "Max-Age=0" in c for c in cleared)
        assert_problem(await api.refresh(browser.cookies.get("docflow_refresh") or old_refresh), 401)

    async def test_transport_header_selects_cookies(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        account = await api.account()
        response = await http.post(f"{API}/auth/login", json={"email": account.email, "password": PASSWORD},
                                   headers={"X-Token-Transport": "cookie"})
        assert response.status_code == 200 and response.json()["access_token"] is None
        assert "docflow_access" in response.cookies
        http.cookies.clear()
