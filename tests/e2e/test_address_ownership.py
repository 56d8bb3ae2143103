"""Only the owner of a verified address receives what is addressed to it: a change of address
takes effect once the new one is verified, an unverified squatter does not block the owner and
loses the address when the owner verifies it, lookup ignores unverified accounts and callers,
and nobody can guess a verification code by asking for fresh ones."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

import httpx

from docflow_dev.devstack import Stack
from docflow_dev.testing.asserts import assert_problem, eventually
from docflow_dev.testing.mail import is_to, link_token, verification_code
from docflow_dev.testing.smtp import SmtpSink

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"
SQUATTER_PASSWORD = "Crooked-Ladder-83"


def new_email(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.kz"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}



async def code_mails(smtp_sink: SmtpSink, email: str, count: int) -> list[EmailMessage]:
    """The first ``count`` verification-code messages sent to ``email``, oldest first."""
    def arrived() -> list[EmailMessage]:
        found = [m for m in smtp_sink.to(email) if is_to(m, email) and "code" in str(m["Subject"])]
        return found if len(found) >= count else []

    found: list[EmailMessage] = await eventually(arrived, timeout=30)
    return found[:count]


async def sign_up(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    created = await client.post(f"{API}/auth/signup", json={
        "email": email, "password": password, "full_name": "Address Owner", "locale": "en"})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def verify(client: httpx.AsyncClient, email: str, code: str) -> httpx.Response:
    return await client.post(f"{API}/auth/email/verify", json={"email": email, "code": code})


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(f"{API}/auth/login", json={"email": email, "password": password})


async def verified_account(client: httpx.AsyncClient, smtp_sink: SmtpSink, name: str) -> dict[str, Any]:
    """A verified account, logged in; ``token`` is an access token that says so."""
    email = new_email(name)
    account = await sign_up(client, email)
    (mail,) = await code_mails(smtp_sink, email, 1)
    assert (await verify(client, email, verification_code(mail))).status_code == 200
    logged_in = await login(client, email)
    assert logged_in.status_code == 200, logged_in.text
    return {**account, "email": email, "token": logged_in.json()["access_token"]}


async def change_email(client: httpx.AsyncClient, account: dict[str, Any], new: str) -> httpx.Response:
    return await client.post(f"{API}/users/me/email", headers=bearer(account["token"]),
                             json={"password": PASSWORD, "new_email": new})


class TestEmailChange:
    async def test_the_old_address_stays_until_the_new_one_is_verified(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink
    ) -> None:
        """An attacker who changes their address to the victim's does not get it: the account
        keeps its old, verified address, and only the code sent to the new one moves it."""
        account = await verified_account(client, smtp_sink, "mover")
        target = new_email("target")
        asked = await change_email(client, account, target)
        assert asked.status_code == 200, asked.text
        assert (asked.json()["email"], asked.json()["email_verified"]) == (account["email"], True)
        assert asked.json()["pending_email"] == target
        me = (await client.get(f"{API}/users/me", headers=bearer(account["token"]))).json()
        assert (me["email"], me["email_verified"]) == (account["email"], True)
        assert (await login(client, account["email"])).status_code == 200
        assert_problem(await login(client, target), 401)
        # someone else looking the target address up finds nobody
        other = await verified_account(client, smtp_sink, "looker")
        assert_problem(await client.get(f"{API}/users/lookup", params={"email": target},
                                        headers=bearer(other["token"])), 404)

        (mail,) = await code_mails(smtp_sink, target, 1)
        assert (await verify(client, target, verification_code(mail))).status_code == 200
        me = (await client.get(f"{API}/users/me", headers=bearer(account["token"]))).json()
        assert (me["email"], me["email_verified"], me["pending_email"]) == (target, True, None)
        assert (await login(client, target)).status_code == 200
        assert_problem(await login(client, account["email"]), 401)
        found = await client.get(f"{API}/users/lookup", params={"email": target}, headers=bearer(other["token"]))
        assert found.status_code == 200 and found.json()["id"] == account["id"]


class TestSquatters:
    async def test_an_unverified_squatter_does_not_block_the_owner_and_loses_the_address(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink
    ) -> None:
        address = new_email("bob")
        squatter = await sign_up(client, address, SQUATTER_PASSWORD)
        await code_mails(smtp_sink, address, 1)
        owner = await sign_up(client, address)  # 201, not 409: the squatter never proved the address
        assert owner["id"] != squatter["id"]
        # while neither verified it, each logs in with its own password, and only that one
        as_squatter = await login(client, address, SQUATTER_PASSWORD)
        assert as_squatter.status_code == 200, as_squatter.text
        assert (await login(client, address)).status_code == 200
        assert_problem(await login(client, address, "Wrong-Password-555"), 401)

        owners_mail = (await code_mails(smtp_sink, address, 2))[1]
        assert (await verify(client, address, verification_code(owners_mail))).status_code == 200
        logged_in = await login(client, address)
        assert logged_in.status_code == 200 and logged_in.json()["access_token"]
        me = (await client.get(f"{API}/users/me", headers=bearer(logged_in.json()["access_token"]))).json()
        assert (me["id"], me["email_verified"]) == (owner["id"], True)
        # the squatter's claim is gone: its account, its login and its session
        assert_problem(await login(client, address, SQUATTER_PASSWORD), 401)
        squatter_token = as_squatter.json()["access_token"]

        async def squatter_refused() -> bool:
            response = await client.get(f"{API}/users/me", headers=bearer(squatter_token))
            return response.status_code == 401

        assert await eventually(squatter_refused, timeout=10)
        # and the address is now the owner's alone: signing up with it again is refused
        again = await client.post(f"{API}/auth/signup", json={
            "email": address, "password": SQUATTER_PASSWORD, "full_name": "Squatter", "locale": "en"})
        assert_problem(again, 409, "account-exists")

    async def test_a_pending_change_to_the_address_is_dropped_when_its_owner_verifies(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink
    ) -> None:
        attacker = await verified_account(client, smtp_sink, "mallory")
        address = new_email("carol")
        assert (await change_email(client, attacker, address)).status_code == 200
        await code_mails(smtp_sink, address, 1)
        owner = await sign_up(client, address)
        owners_mail = (await code_mails(smtp_sink, address, 2))[1]
        assert (await verify(client, address, verification_code(owners_mail))).status_code == 200
        me = (await client.get(f"{API}/users/me", headers=bearer(attacker["token"]))).json()
        assert (me["email"], me["pending_email"]) == (attacker["email"], None)
        attackers_mail = (await code_mails(smtp_sink, address, 1))[0]
        assert_problem(await verify(client, address, verification_code(attackers_mail)), 400, "invalid-code")
        assert (await login(client, address)).json()["access_token"]
        assert owner["id"] != attacker["id"]


class TestLookup:
    async def test_an_unverified_caller_may_not_look_up(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink
    ) -> None:
        verified = await verified_account(client, smtp_sink, "alice")
        unverified = await sign_up(client, new_email("eve"))
        refused = await client.get(f"{API}/users/lookup", params={"email": verified["email"]},
                                   headers=bearer(unverified["access_token"]))
        assert_problem(refused, 403, "email-not-verified")

    async def test_an_unverified_account_is_not_found(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink
    ) -> None:
        """A squatter's unverified claim to an address is answered as if nobody had it."""
        caller = await verified_account(client, smtp_sink, "dave")
        unverified_email = new_email("eve")
        await sign_up(client, unverified_email)
        unknown = await client.get(f"{API}/users/lookup", params={"email": new_email("nobody")},
                                   headers=bearer(caller["token"]))
        hidden = await client.get(f"{API}/users/lookup", params={"email": unverified_email},
                                  headers=bearer(caller["token"]))
        assert_problem(hidden, 404)
        assert hidden.json()["detail"] == assert_problem(unknown, 404)["detail"]


class TestCodeGuessing:
    async def test_email_changes_are_limited_per_account(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink
    ) -> None:
        account = await verified_account(client, smtp_sink, "churner")
        for _ in range(5):
            assert (await change_email(client, account, new_email("churn"))).status_code == 200
        limited = await change_email(client, account, new_email("churn"))
        assert_problem(limited, 429, "rate-limited")
        assert int(limited.headers["Retry-After"]) > 0

    async def test_wrong_codes_count_per_address_across_fresh_codes(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink
    ) -> None:
        """Switch to the victim's address, guess, switch away and back for a fresh code: the
        guesses made against the first code still count for the address."""
        attacker = await verified_account(client, smtp_sink, "guesser")
        victim = new_email("victim")
        assert (await change_email(client, attacker, victim)).status_code == 200
        (first,) = await code_mails(smtp_sink, victim, 1)
        right = verification_code(first)
        for i in range(1, 6):
            wrong = f"{(int(right) + i) % 1_000_000:06d}"
            assert_problem(await verify(client, victim, wrong), 400, "invalid-code")
        assert (await change_email(client, attacker, new_email("elsewhere"))).status_code == 200
        assert (await change_email(client, attacker, victim)).status_code == 200
        fresh = verification_code((await code_mails(smtp_sink, victim, 2))[1])
        limited = await verify(client, victim, fresh)
        assert_problem(limited, 429, "too-many-codes")
        me = (await client.get(f"{API}/users/me", headers=bearer(attacker["token"]))).json()
        assert me["email"] == attacker["email"]

    async def test_the_owner_still_verifies_by_link_when_codes_are_used_up(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink
    ) -> None:
        """Guessing can hold up code entry for an address, not its owner: the link still works."""
        address = new_email("owner")
        await sign_up(client, address)
        (mail,) = await code_mails(smtp_sink, address, 1)
        right = verification_code(mail)
        for i in range(1, 6):
            await verify(client, address, f"{(int(right) + i) % 1_000_000:06d}")
        assert_problem(await verify(client, address, right), 429, "too-many-codes")
        linked = await client.get(f"{API}/auth/email/verify", params={"token": link_token(mail, "verify")})
        assert linked.status_code == 200 and linked.json() == {"email": address, "email_verified": True}
        assert (await login(client, address)).status_code == 200

