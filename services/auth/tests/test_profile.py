"""The caller's profile: read, patch, change e-mail, lookup, self-delete."""

from __future__ import annotations

import httpx
from auth_testkit import API, PASSWORD, AuthApi, claims_of, unique_email, valid_iin, valid_kz_phone

from docflow_dev.testing.asserts import assert_problem
from docflow_dev.testing.events import EventTap


class TestProfile:
    async def test_patch_changes_fields_and_emits_user_updated(
        self, api: AuthApi, http: httpx.AsyncClient, events: EventTap
    ) -> None:
        account = await api.account(phone=valid_kz_phone())
        phone, iin = valid_kz_phone(), valid_iin()
        response = await http.patch(f"{API}/users/me", headers=account.headers,
                                    json={"full_name": "  Ерлан   Нурланов ", "phone": phone, "iin": iin,
                                          "locale": "en"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["full_name"] == "Ерлан Нурланов" and body["phone"] == phone and body["iin"] == iin
        updated = await events.wait_for("user.updated", lambda e: e.data["user_id"] == account.id)
        assert updated.data["full_name"] == "Ерлан Нурланов" and updated.data["locale"] == "en"

        cleared = await http.patch(f"{API}/users/me", headers=account.headers, json={"phone": None})
        assert cleared.json()["phone"] is None and cleared.json()["iin"] == iin
        assert (await http.get(f"{API}/users/me", headers=account.headers)).json()["phone"] is None

    async def test_patch_rejects_taken_and_invalid_values(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        first = await api.account(iin=valid_iin())
        second = await api.account()
        taken = await http.patch(f"{API}/users/me", headers=second.headers, json={"iin": first.profile["iin"]})
        assert_problem(taken, 409)
        assert_problem(await http.patch(f"{API}/users/me", headers=second.headers, json={"phone": "+7 12"}), 422)
        assert_problem(await http.patch(f"{API}/users/me", headers=second.headers, json={"full_name": None}), 422)
        assert_problem(await http.patch(f"{API}/users/me", headers=second.headers, json={"email": "x@y.kz"}), 422)

    async def test_me_needs_a_token(self, http: httpx.AsyncClient) -> None:
        response = await http.get(f"{API}/users/me")
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


class TestChangeEmail:
    async def test_change_email_takes_effect_once_verified(
        self, api: AuthApi, http: httpx.AsyncClient, events: EventTap
    ) -> None:
        account = await api.account()
        new_email = unique_email("moved")
        wrong = await http.post(f"{API}/users/me/email", headers=account.headers,
                                json={"password": "Wrong-Password-55", "new_email": new_email})
        assert_problem(wrong, 403)
        response = await http.post(f"{API}/users/me/email", headers=account.headers,
                                   json={"password": PASSWORD, "new_email": new_email.upper()})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["email"], body["email_verified"], body["pending_email"]) == (account.email, True, new_email)
        requested = await events.wait_for("user.email_verification_requested",
                                          lambda e: e.data["user_id"] == account.id and e.data["email"] == new_email)
        refreshed = (await api.refresh(account.refresh_token)).json()
        assert claims_of(refreshed["access_token"])["email_verified"] is True
        assert (await api.login(account.email)).status_code == 200
        assert_problem(await api.login(new_email), 401)
        ok = await http.post(f"{API}/auth/email/verify", json={"email": new_email, "code": requested.data["code"]})
        assert ok.status_code == 200, ok.text
        me = (await http.get(f"{API}/users/me", headers=account.headers)).json()
        assert (me["email"], me["email_verified"], me["pending_email"]) == (new_email, True, None)
        updated = await events.wait_for("user.updated", lambda e: e.data["user_id"] == account.id)
        assert (updated.data["email"], updated.data["email_verified"]) == (new_email, True)
        assert_problem(await api.login(account.email), 401)
        assert (await api.login(new_email)).status_code == 200

    async def test_taken_email_is_409(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        first, second = await api.account(), await api.account()
        response = await http.post(f"{API}/users/me/email", headers=second.headers,
                                   json={"password": PASSWORD, "new_email": first.email})
        assert_problem(response, 409)


class TestLookup:
    async def test_lookup_by_email_gives_a_minimal_profile(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        alice, bob = await api.account(iin=valid_iin()), await api.account()
        found = await http.get(f"{API}/users/lookup", params={"email": alice.email.upper()}, headers=bob.headers)
        assert found.status_code == 200
        assert found.json() == {"id": alice.id, "full_name": alice.profile["full_name"], "email": alice.email}
        missing = await http.get(f"{API}/users/lookup", params={"email": unique_email()}, headers=bob.headers)
        assert_problem(missing, 404)
        assert_problem(await http.get(f"{API}/users/lookup", params={"email": alice.email}), 401)
        assert_problem(await http.get(f"{API}/users/lookup", params={"email": "bad"}, headers=bob.headers), 422)


class TestSelfDelete:
    async def test_delete_needs_password_frees_the_email_and_announces(
        self, api: AuthApi, http: httpx.AsyncClient, events: EventTap
    ) -> None:
        phone = valid_kz_phone()
        account = await api.account(phone=phone)
        wrong = await http.request("DELETE", f"{API}/users/me", headers=account.headers,
                                   json={"password": "Wrong-Password-33"})
        assert_problem(wrong, 403)
        response = await http.request("DELETE", f"{API}/users/me", headers=account.headers,
                                      json={"password": PASSWORD})
        assert response.status_code == 204, response.text
        deleted = await events.wait_for("user.deleted", lambda e: e.data["user_id"] == account.id)
        assert deleted.data["deleted_at"]
        assert_problem(await http.get(f"{API}/users/me", headers=account.headers), 401)
        assert_problem(await api.refresh(account.refresh_token), 401)
        assert_problem(await api.login(account.email), 401)
        again = await api.signup(account.email, phone=phone)
        assert again.status_code == 201, again.text
        assert again.json()["id"] != account.id
