"""Through the gateway with every service running: three people sign a contract in turn.

Accounts are made with auth (sign-up, e-mail code, login), the document and its file with
documents; routes and signing learn about them, and signing about the request, from events
only. Skipped when a service is not installed.
"""

from __future__ import annotations

import importlib.util
import os

import httpx
import pytest

from docflow_dev.testing.asserts import eventually
from docflow_signing.crypto.devca import Issued, key_proof, sign_detached

SERVICES = ("docflow_auth", "docflow_documents", "docflow_gateway", "docflow_mail")
pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in SERVICES),
    reason="the end-to-end test needs every DocFlow service installed",
)
API = "/api/v1"
TITLE = "Supply contract"


async def upload_certificate(client: httpx.AsyncClient, person: dict, issued: Issued) -> httpx.Response:
    """Register ``issued`` for ``person``, proving possession of its key with a fresh challenge."""
    challenge = await client.post(f"{API}/certificates/challenges", headers=person["headers"])
    assert challenge.status_code == 201, challenge.text
    text = challenge.json()["challenge"]
    return await client.post(f"{API}/certificates", json={"pem": issued.cert_pem.decode()}, headers={
        **person["headers"], "DocFlow-Key-Challenge": text, "DocFlow-Key-Proof": key_proof(text, issued)})



def about(smtp_sink, address: str, title: str) -> list:
    return [m for m in smtp_sink.to(address) if title in str(m["Subject"])]


async def mail_about(smtp_sink, address: str, title: str, *, at_least: int = 1, timeout: float = 20.0):
    """E-mails to ``address`` whose subject names the document (welcome and code mails aside)."""
    async def found():
        messages = about(smtp_sink, address, title)
        return messages if len(messages) >= at_least else None

    messages = await eventually(found, timeout)
    assert messages, f"fewer than {at_least} e-mails about {title} to {address}"
    return messages


async def test_three_signers_in_turn_through_the_gateway(client, events, account, smtp_sink, trusted_ca) -> None:
    owner = await account("Olga")
    signers = [await account(name) for name in ("Aida", "Bolat", "Dana")]
    keys = {}
    for person in signers:
        keys[person["id"]] = trusted_ca.issue(person["name"], key_type="rsa" if person["name"] == "Bolat" else "ec")

        async def upload(person=person):
            response = await upload_certificate(client, person, keys[person["id"]])
            return response if response.status_code != 422 else None  # until the trust store is re-read

        uploaded = await eventually(upload)
        assert uploaded is not None and uploaded.status_code == 201, uploaded and uploaded.text

    document = await client.post(f"{API}/documents", json={"title": TITLE}, headers=owner["headers"])
    assert document.status_code == 201, document.text
    doc_id = document.json()["id"]
    content = os.urandom(20_000)
    upload = await client.post(f"{API}/documents/{doc_id}/files", headers=owner["headers"],
                               files={"file": ("contract.pdf", content, "application/pdf")})
    assert upload.status_code == 201, upload.text
    file_id = upload.json()["id"]

    async def request_created():
        response = await client.post(f"{API}/documents/{doc_id}/signature-requests", headers=owner["headers"], json={
            "signers": [s["email"] for s in signers], "order": "sequential", "message": "Please sign"})
        return response if response.status_code == 201 else None  # until signing has seen the events

    request = await eventually(request_created)
    assert request is not None, "signing never learnt about the document and its file"
    request_id = request.json()["id"]
    await mail_about(smtp_sink, signers[0]["email"], TITLE)
    assert about(smtp_sink, signers[1]["email"], TITLE) == []  # sequential: only the first is asked

    def sign(person):
        signature = sign_detached(content, keys[person["id"]])
        return client.post(f"{API}/documents/{doc_id}/files/{file_id}/signatures", headers=person["headers"],
                           files={"signature": ("contract.p7s", signature, "application/pkcs7-signature")})

    async def answered(person, status: int):
        async def check():
            response = await sign(person)
            assert response.status_code == status, response.text
            return response

        return await eventually(check, timeout=30, what=f"signing answering {status}")

    await answered(signers[2], 409)  # out of turn, once signing has routes' snapshot
    for person in signers:
        signed = await answered(person, 201)
        assert signed.json()["trusted"] is True and signed.json()["request_id"] == request_id

    completed = await events.wait_for("document.completed", lambda e: e.data["request_id"] == request_id)
    assert {p["user_id"] for p in completed.data["participants"]} == {owner["id"], *(s["id"] for s in signers)}

    async def status_signed():
        response = await client.get(f"{API}/documents/{doc_id}", headers=owner["headers"])
        return response if response.json().get("status") == "signed" else None

    assert await eventually(status_signed) is not None, "documents never marked the document signed"
    await mail_about(smtp_sink, owner["email"], TITLE, at_least=4)  # three document.signed + completed
    for person in signers:
        await mail_about(smtp_sink, person["email"], TITLE, at_least=2)  # asked to sign, then completed
    listed = await client.get(f"{API}/documents/{doc_id}/signatures", headers=owner["headers"])
    assert listed.status_code == 200 and len(listed.json()["items"]) == 3


async def test_signed_files_are_fixed_and_former_signers_lose_access(client, events, account, trusted_ca) -> None:
    owner = await account("Olga")
    signers = [await account(name) for name in ("Aida", "Bolat")]
    keys = {p["id"]: trusted_ca.issue(p["name"]) for p in signers}
    for person in signers:
        async def upload(person=person):
            response = await upload_certificate(client, person, keys[person["id"]])
            return response if response.status_code != 422 else None

        assert (await eventually(upload)).status_code == 201
    doc_id = (await client.post(f"{API}/documents", json={"title": TITLE}, headers=owner["headers"])).json()["id"]
    content = os.urandom(5_000)
    upload = await client.post(f"{API}/documents/{doc_id}/files", headers=owner["headers"],
                               files={"file": ("contract.pdf", content, "application/pdf")})
    file_id = upload.json()["id"]

    async def request_created():
        response = await client.post(f"{API}/documents/{doc_id}/signature-requests", headers=owner["headers"],
                                     json={"signers": [s["email"] for s in signers], "order": "parallel"})
        return response if response.status_code == 201 else None

    request_id = (await eventually(request_created)).json()["id"]
    async def first_signed():
        response = await client.post(f"{API}/documents/{doc_id}/files/{file_id}/signatures",
                                     headers=signers[0]["headers"],
                                     files={"signature": ("c.p7s", sign_detached(content, keys[signers[0]["id"]]),
                                                          "application/pkcs7-signature")})
        assert response.status_code == 201, response.text
        return response

    signed = await eventually(first_signed, timeout=30, what="the first signature")
    p7s = f"{API}/documents/{doc_id}/signatures/{signed.json()['id']}/p7s"
    assert (await client.get(p7s, headers=signers[0]["headers"])).status_code == 200

    async def refused(method: str, url: str, **kwargs):
        response = await client.request(method, url, headers=owner["headers"], **kwargs)
        return response if response.status_code == 409 else None  # once documents has the events

    added = await eventually(lambda: refused("POST", f"{API}/documents/{doc_id}/files",
                                             files={"file": ("extra.pdf", b"later", "application/pdf")}))
    assert added is not None and added.headers["content-type"].startswith("application/problem+json")
    file_url = f"{API}/documents/{doc_id}/files/{file_id}"
    assert await eventually(lambda: refused("DELETE", file_url)) is not None
    assert await eventually(lambda: refused("PATCH", file_url, json={"name": "changed.pdf"})) is not None

    cancelled = await client.delete(f"{API}/documents/{doc_id}/signature-requests/{request_id}",
                                    headers=owner["headers"])
    assert cancelled.status_code == 200
    for person in signers:  # signers of a cancelled request no longer see it, nor the certificates in it
        async def gone(person=person):
            return (await client.get(p7s, headers=person["headers"])).status_code == 404

        await eventually(gone, timeout=30, what="former signers losing access")
    assert (await client.get(p7s, headers=owner["headers"])).status_code == 200
    assert (await client.delete(file_url, headers=owner["headers"])).status_code == 409
