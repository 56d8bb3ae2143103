"""Signup, validation, availability and e-mail verification (auth's public account routes)."""

from __future__ import annotations

import httpx
import pytest
from auth_testkit import API, AuthApi, unique_email, valid_iin, valid_kz_phone

from docflow_dev.testing.asserts import assert_problem
from docflow_dev.testing.events import EventTap


class TestSignup:
    async def test_signup_normalises_and_emits_registered_and_verification(
        self, api: AuthApi, events: EventTap
    ) -> None:
        email = unique_email("Mixed.Case").replace("example.com", "Example.COM")
        iin = valid_iin()
        response = await api.signup(email, phone="8 (701) 234-56-78".replace("234", str(200 + hash(email) % 799)),
                                    iin=iin, locale="en")
        assert response.status_code == 201, response.text
        user = response.json()
        assert user["email"] == email.lower()
        assert user["phone"].startswith("+7701") and len(user["phone"]) == 12
        assert user["iin"] == iin and user["locale"] == "en" and user["email_verified"] is False
        assert "password" not in str(user).lower()
        registered = await events.wait_for("user.registered", lambda e: e.data["user_id"] == user["id"])
        assert registered.producer == "auth" and registered.data["email"] == email.lower()
        requested = await api.verification_event(user["id"])
        assert len(requested.data["code"]) == 6 and requested.data["code"].isdigit()
        assert len(requested.data["token"]) >= 32

    async def test_duplicate_verified_email_in_another_case_is_409(self, api: AuthApi) -> None:
        email = unique_email("dup")
        await api.account(email=email)
        body = assert_problem(await api.signup(email.upper()), 409)
        assert body["errors"][0]["field"] == "email"

    async def test_duplicate_phone_and_iin_are_409(self, api: AuthApi) -> None:
        phone, iin = valid_kz_phone(), valid_iin()
        assert (await api.signup(phone=phone, iin=iin)).status_code == 201
        body = assert_problem(await api.signup(phone=phone, iin=iin), 409)
        assert {e["field"] for e in body["errors"]} == {"phone", "iin"}

    @pytest.mark.parametrize(("field", "value", "error_type"), [
        ("email", "not-an-email", "email_invalid"),
        ("email", "two@@example.com", "email_invalid"),
        ("phone", "12345", "phone_invalid"),
        ("phone", "+7 000 000 00 00", "phone_invalid"),
        ("iin", "12345678901", "iin_format"),
        ("iin", "12345678901a", "iin_format"),
        ("iin", "900101300001", "iin_checksum"),
        ("locale", "de", "literal_error"),
    ])
    async def test_invalid_fields_are_422_with_field_errors(
        self, api: AuthApi, field: str, value: str, error_type: str
    ) -> None:
        if field == "iin" and error_type == "iin_checksum":
            good = valid_iin()
            value = good[:11] + str((int(good[11]) + 1) % 10)
        body = assert_problem(await api.signup(**{field: value}) if field != "email"
                              else await api.signup(email=value), 422)
        assert any(e["field"] == field and e["type"] == error_type for e in body["errors"]), body

    @pytest.mark.parametrize(("password", "reason"), [
        ("Short-1", "at least 10"),
        ("qwertyuiop123", "too common"),
        ("Password123", "too common"),
        ("{local}-Is-My-Secret", "e-mail"),
    ])
    async def test_weak_passwords_are_422(self, api: AuthApi, password: str, reason: str) -> None:
        email = unique_email("policy")
        body = assert_problem(await api.signup(email, password=password.format(local=email.split("@")[0])), 422)
        errors = [e for e in body["errors"] if e["field"] == "password"]
        assert errors and reason in errors[0]["message"], body

    async def test_unknown_fields_and_missing_fields_are_422(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        body = assert_problem(await api.signup(role="admin"), 422)
        assert body["errors"][0]["field"] == "role"
        body = assert_problem(await http.post(f"{API}/auth/signup", json={"email": unique_email()}), 422)
        assert {"password", "full_name"} <= {e["field"] for e in body["errors"]}

    async def test_malformed_json_is_400_problem(self, http: httpx.AsyncClient) -> None:
        response = await http.post(f"{API}/auth/signup", content=b'{"email": "a@b.kz",',
                                   headers={"Content-Type": "application/json"})
        assert_problem(response, 400)
        response = await http.post(f"{API}/auth/login", content=b"\xff\xfe",
                                   headers={"Content-Type": "application/json"})
        assert response.status_code in (400, 422) and response.headers["content-type"].startswith(
            "application/problem+json")


class TestAvailability:
    async def test_reports_taken_and_free_values(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        email, phone, iin = unique_email("avail"), valid_kz_phone(), valid_iin()
        assert (await api.signup(email, phone=phone, iin=iin)).status_code == 201
        response = await http.get(f"{API}/auth/availability",
                                  params={"email": email.upper(), "phone": phone, "iin": iin})
        assert response.status_code == 200
        # an unverified claim does not stop signup with that address, so it is reported free
        assert response.json() == {"email": True, "phone": False, "iin": False}
        taken = (await api.account()).email
        response = await http.get(f"{API}/auth/availability", params={"email": taken})
        assert response.json() == {"email": False, "phone": None, "iin": None}
        response = await http.get(f"{API}/auth/availability", params={"email": unique_email(), "iin": valid_iin()})
        assert response.json() == {"email": True, "phone": None, "iin": True}

    @pytest.mark.parametrize("params", [{"email": "nope"}, {"phone": "abc"}, {"iin": "123"}])
    async def test_bad_formats_are_422(self, http: httpx.AsyncClient, params: dict[str, str]) -> None:
        assert_problem(await http.get(f"{API}/auth/availability", params=params), 422)

    async def test_nothing_asked_is_400(self, http: httpx.AsyncClient) -> None:
        assert_problem(await http.get(f"{API}/auth/availability"), 400)


class TestEmailVerification:
    async def test_code_verifies_once_and_token_claim_follows(self, api: AuthApi, http: httpx.AsyncClient,
                                                              events: EventTap) -> None:
        response = await api.signup()
        user = response.json()
        event = await api.verification_event(user["id"])
        wrong = "000000" if event.data["code"] != "000000" else "111111"
        assert_problem(await http.post(f"{API}/auth/email/verify", json={"email": user["email"], "code": wrong}), 400)
        ok = await http.post(f"{API}/auth/email/verify", json={"email": user["email"], "code": event.data["code"]})
        assert ok.status_code == 200 and ok.json()["email_verified"] is True
        await events.wait_for("user.email_verified", lambda e: e.data["user_id"] == user["id"])
        again = await http.post(f"{API}/auth/email/verify", json={"email": user["email"], "code": event.data["code"]})
        assert_problem(again, 400)
        login = await api.login(user["email"])
        me = await http.get(f"{API}/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        assert me.json()["email_verified"] is True

    async def test_link_token_verifies(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        user = (await api.signup()).json()
        event = await api.verification_event(user["id"])
        ok = await http.get(f"{API}/auth/email/verify", params={"token": event.data["token"]})
        assert ok.status_code == 200 and ok.json() == {"email": user["email"], "email_verified": True}
        assert_problem(await http.get(f"{API}/auth/email/verify", params={"token": event.data["token"]}), 400)
        assert_problem(await http.get(f"{API}/auth/email/verify", params={"token": "x" * 40}), 400)

    async def test_attempts_are_limited(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        user = (await api.signup()).json()
        event = await api.verification_event(user["id"])
        code = event.data["code"]
        wrong = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 6)]
        for attempt in wrong:
            assert_problem(await http.post(f"{API}/auth/email/verify", json={"email": user["email"], "code": attempt}),
                           400)
        late = await http.post(f"{API}/auth/email/verify", json={"email": user["email"], "code": code})
        assert assert_problem(late, 429)["type"].endswith("/too-many-codes")
        assert int(late.headers["Retry-After"]) > 0

    async def test_resend_is_202_for_everyone_and_sends_a_new_code(
        self, api: AuthApi, http: httpx.AsyncClient, events: EventTap
    ) -> None:
        user = (await api.signup()).json()
        first = await api.verification_event(user["id"])
        response = await http.post(f"{API}/auth/email/resend", json={"email": user["email"]})
        assert response.status_code == 202
        second = await events.wait_for("user.email_verification_requested",
                                       lambda e: e.data["user_id"] == user["id"] and e.id != first.id)
        unknown = await http.post(f"{API}/auth/email/resend", json={"email": unique_email("ghost")})
        assert unknown.status_code == 202 and unknown.json() == response.json()
        if first.data["code"] != second.data["code"]:
            old = await http.post(f"{API}/auth/email/verify", json={"email": user["email"], "code": first.data["code"]})
            assert_problem(old, 400)
        ok = await http.post(f"{API}/auth/email/verify", json={"email": user["email"], "code": second.data["code"]})
        assert ok.status_code == 200
