"""Who receives documents: only the owner of a verified address.

An attacker signs up as Bob's address and never verifies it (they cannot read Bob's mail). What
is shared with, or sent for signature to, that address must not reach them; it waits, and goes
to whichever account proves the address by the code mailed to it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from docflow_dev.devstack import Stack
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.mail import is_to, verification_code
from docflow_dev.testing.smtp import SmtpSink
from docflow_signing.crypto.devca import Issued, create_ca, issue_user_certificate, sign_detached

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"
QUIET_SECONDS = 2.0


def bearer(account: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['token']}"}


def bobs_address() -> str:
    return f"bob.{uuid.uuid4().hex[:8]}@corp.kz"


async def claim(client: httpx.AsyncClient, email: str, name: str) -> dict[str, str]:
    """An account that says it is ``email`` and proves nothing (signup answers with tokens)."""
    created = await client.post(f"{API}/auth/signup", json={
        "email": email, "password": PASSWORD, "full_name": name, "locale": "en"})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"], "email": email, "token": created.json()["access_token"]}


async def prove(client: httpx.AsyncClient, smtp_sink: SmtpSink, account: dict[str, str]) -> dict[str, str]:
    """Verify the account's address with the code mailed to it, and log in again."""
    email = account["email"]
    code = verification_code(smtp_sink.wait_for(lambda m: is_to(m, email) and "code" in str(m["Subject"]), 60))
    verified = await client.post(f"{API}/auth/email/verify", json={"email": email, "code": code})
    assert verified.status_code == 200, verified.text
    login = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {**account, "token": login.json()["access_token"]}


async def verified_account(client: httpx.AsyncClient, smtp_sink: SmtpSink, name: str) -> dict[str, str]:
    email = f"{name.lower()}.{uuid.uuid4().hex[:8]}@example.kz"
    return await prove(client, smtp_sink, await claim(client, email, name))


async def a_document(client: httpx.AsyncClient, owner: dict[str, str]) -> dict[str, Any]:
    title = f"Board minutes {uuid.uuid4().hex[:8]}"
    created = await client.post(f"{API}/documents", headers=bearer(owner), json={"title": title, "content": "secret"})
    assert created.status_code == 201, created.text
    return dict(created.json())


async def share(client: httpx.AsyncClient, owner: dict[str, str], document_id: str,
                recipients: list[str], permission: str = "read") -> dict[str, dict[str, Any]]:
    response = await client.post(f"{API}/documents/{document_id}/share", headers=bearer(owner),
                                 json={"recipients": recipients, "permission": permission})
    assert response.status_code == 201, response.text
    return {s["email"]: s for s in response.json()["shares"]}


def mails_about(smtp_sink: SmtpSink, address: str, title: str) -> list[Any]:
    return [m for m in smtp_sink.to(address) if title in str(m["Subject"])]


async def sees(client: httpx.AsyncClient, account: dict[str, str], document_id: str) -> bool:
    got = await client.get(f"{API}/documents/{document_id}", headers=bearer(account))
    assert got.status_code in (200, 404), got.text
    return got.status_code == 200


class TestShares:
    async def test_an_unverified_claim_to_the_address_reads_nothing_shared_to_it(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink
    ) -> None:
        owner = await verified_account(client, smtp_sink, "Owner")
        carol = await verified_account(client, smtp_sink, "Carol")
        bob = bobs_address()
        squatter = await claim(client, bob, "Not Bob")
        doc = await a_document(client, owner)

        shares = await share(client, owner, doc["id"], [bob, carol["email"]])

        got = await client.get(f"{API}/documents/{doc['id']}", headers=bearer(squatter))
        assert got.status_code == 404, got.text
        assert (await client.get(f"{API}/inbox", headers=bearer(squatter))).json()["items"] == []
        shared = await client.get(f"{API}/documents", params={"scope": "shared"}, headers=bearer(squatter))
        assert shared.json()["items"] == []
        assert shares[bob].get("status") == "pending" and shares[bob]["recipient_id"] is None
        assert shares[carol["email"]]["status"] == "active" and shares[carol["email"]]["recipient_id"] == carol["id"]
        # Carol's notice went out with Bob's would-be one; the address itself got none
        smtp_sink.wait_for(lambda m: is_to(m, carol["email"]) and doc["title"] in str(m["Subject"]), 30)
        await asyncio.sleep(QUIET_SECONDS)
        assert mails_about(smtp_sink, bob, doc["title"]) == []
        assert await sees(client, carol, doc["id"])

    async def test_the_share_reaches_whoever_proves_the_address(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink
    ) -> None:
        owner = await verified_account(client, smtp_sink, "Owner")
        bob = bobs_address()
        claimant = await claim(client, bob, "Bob")
        doc = await a_document(client, owner)
        shares = await share(client, owner, doc["id"], [bob], "comment")
        assert not await sees(client, claimant, doc["id"])
        assert shares[bob].get("status") == "pending"

        proven = await prove(client, smtp_sink, claimant)
        await eventually(lambda: sees(client, proven, doc["id"]), timeout=30)
        got = await client.get(f"{API}/documents/{doc['id']}", headers=bearer(proven))
        assert got.json()["permission"] == "comment"
        inbox = (await client.get(f"{API}/inbox", headers=bearer(proven))).json()["items"]
        assert [i["document_id"] for i in inbox] == [doc["id"]]
        smtp_sink.wait_for(lambda m: is_to(m, bob) and doc["title"] in str(m["Subject"]), 30)

    async def test_a_pending_share_revoked_before_the_proof_is_never_delivered(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink
    ) -> None:
        owner = await verified_account(client, smtp_sink, "Owner")
        bob = bobs_address()
        claimant = await claim(client, bob, "Bob")
        withdrawn, later = await a_document(client, owner), await a_document(client, owner)
        await share(client, owner, withdrawn["id"], [bob])
        revoked = await client.delete(f"{API}/documents/{withdrawn['id']}/share/{bob}", headers=bearer(owner))
        assert revoked.status_code == 204, revoked.text

        proven = await prove(client, smtp_sink, claimant)
        # a share made after the proof arrives at once: by its notice, any delivery has happened
        assert (await share(client, owner, later["id"], [bob]))[bob]["recipient_id"] == proven["id"]
        smtp_sink.wait_for(lambda m: is_to(m, bob) and later["title"] in str(m["Subject"]), 30)
        await asyncio.sleep(QUIET_SECONDS)
        assert not await sees(client, proven, withdrawn["id"])
        assert mails_about(smtp_sink, bob, withdrawn["title"]) == []


@pytest.fixture(scope="module")
def test_ca(platform_env: dict[str, str]) -> Issued:
    """A CA the stack's signing service trusts (its trust directory is re-read on change)."""
    ca = create_ca("Verified Recipients Test CA", key_type="ec")
    trust = Path(platform_env["DATA_DIR"]) / "signing" / "trust"
    ca.write(trust, f"recipients-ca-{uuid.uuid4().hex[:6]}")
    for key in trust.glob("recipients-ca-*.key"):
        key.unlink()
    return ca


class TestSignatureRequests:
    async def test_an_unverified_claim_cannot_sign_then_the_proven_owner_can(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink, test_ca: Issued,
        register_certificate: Any,
    ) -> None:
        owner = await verified_account(client, smtp_sink, "Owner")
        bob = bobs_address()
        squatter = await claim(client, bob, "Not Bob")
        doc = await a_document(client, owner)
        content = os.urandom(2000)
        uploaded = await client.post(f"{API}/documents/{doc['id']}/files", headers=bearer(owner),
                                     files={"file": ("contract.pdf", content, "application/pdf")})
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["id"]

        async def requested() -> httpx.Response | None:
            response = await client.post(f"{API}/documents/{doc['id']}/signature-requests", headers=bearer(owner),
                                         json={"signers": [bob]})
            return response if response.status_code != 422 else None  # until signing knows the file

        created = await eventually(requested, timeout=30)
        assert created.status_code == 201, created.text
        request = created.json()

        certificate = issue_user_certificate(test_ca, "Bob")
        signature = sign_detached(content, certificate)
        sign_url = f"{API}/documents/{doc['id']}/files/{file_id}/signatures"

        async def attempt(account: dict[str, str]) -> httpx.Response:
            return await client.post(sign_url, headers=bearer(account),
                                     files={"signature": ("bob.p7s", signature, "application/pkcs7-signature")})

        assert (await client.get(f"{API}/signature-requests", headers=bearer(squatter))).json()["items"] == []
        listed = await client.get(f"{API}/documents/{doc['id']}/signature-requests", headers=bearer(squatter))
        assert listed.status_code == 404, listed.text
        assert (await attempt(squatter)).status_code == 404
        await asyncio.sleep(QUIET_SECONDS)
        assert mails_about(smtp_sink, bob, doc["title"]) == []
        assert request["signers"][0].get("delivery") == "pending" and request["signers"][0]["user_id"] is None

        proven = await prove(client, smtp_sink, squatter)

        async def asked() -> list[Any]:
            items = (await client.get(f"{API}/signature-requests", headers=bearer(proven))).json()["items"]
            return [(i["request_id"], i["your_turn"]) for i in items]

        assert await eventually(asked, timeout=30) == [(request["id"], True)]
        smtp_sink.wait_for(lambda m: is_to(m, bob) and doc["title"] in str(m["Subject"]), 30)
        registered = await register_certificate(client, bearer(proven), certificate)
        assert registered.status_code == 201, registered.text
        signed = await attempt(proven)
        assert signed.status_code == 201, signed.text
