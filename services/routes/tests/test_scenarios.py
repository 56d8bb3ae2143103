"""The issue's three scenarios through the gateway with every service running and a real SMTP
sink: a staged route with a delegate and an outside counterparty signing with OpenSSL, ending with
the evidence link in the completion e-mail and an audit chain that verifies offline; a decline
at stage two; an expiry. Accounts come from auth, the document from documents."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from docflow_dev.testing.asserts import eventually

SERVICES = ("docflow_audit", "docflow_auth", "docflow_documents", "docflow_gateway", "docflow_mail",
            "docflow_signing")
pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in SERVICES),
    reason="the scenarios need every DocFlow service installed",
)
API = "/api/v1"
SESSION = "DocFlow-External-Session"


def openssl_sign(content: bytes, cert: Path, key: Path, workdir: Path) -> bytes:
    """A detached CMS (DER) made by the OpenSSL command line, as a counterparty would."""
    data, out = workdir / f"{uuid.uuid4().hex}.bin", workdir / f"{uuid.uuid4().hex}.p7s"
    data.write_bytes(content)
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256", "-in", str(data),
                    "-signer", str(cert), "-inkey", str(key), "-out", str(out)], check=True, capture_output=True)
    return out.read_bytes()


async def until_status(call, status: int, what: str):
    async def check():
        response = await call()
        assert response.status_code == status, response.text
        return response

    return await eventually(check, timeout=30, what=what)


def mails(smtp_sink, address: str, pattern: str) -> list:
    return [m for m in smtp_sink.to(address) if re.search(pattern, str(m["Subject"]))]


async def mail(smtp_sink, address: str, pattern: str):
    async def found():
        return mails(smtp_sink, address, pattern) or None

    messages = await eventually(found, timeout=60, what=f"an e-mail to {address} matching {pattern!r}")
    return messages[-1]


def text_of(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content())


async def document_with_file(client, owner: dict, title: str) -> tuple[str, str, bytes]:
    created = await client.post(f"{API}/documents", json={"title": title}, headers=owner["headers"])
    assert created.status_code == 201, created.text
    content = os.urandom(8_000)
    upload = await client.post(f"{API}/documents/{created.json()['id']}/files", headers=owner["headers"],
                               files={"file": ("contract.pdf", content, "application/pdf")})
    assert upload.status_code == 201, upload.text
    return created.json()["id"], upload.json()["id"], content


async def open_route(client, owner: dict, doc_id: str, body: dict) -> dict:
    async def created():
        response = await client.post(f"{API}/documents/{doc_id}/signature-requests", json=body,
                                     headers=owner["headers"])
        assert response.status_code == 201, response.text  # once routes has seen the document and its file
        return response

    return (await eventually(created, timeout=30, what="the route")).json()


def stage(*participants: tuple[str, str], external: bool = False) -> dict:
    return {"participants": [{"email": email, "role": role, "external": external} for email, role in participants]}


def verify_audit_export(path: Path) -> subprocess.CompletedProcess[str]:
    """The documented offline check of an audit export (docs/architecture.md, "Audit trail")."""
    return subprocess.run([sys.executable, "-m", "docflow_audit.verify", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)


async def route_in_audit_export(client, owner: dict, doc_id: str, path: Path, request_id: str) -> list[dict]:
    """The owner's export of the document's trail, written to ``path`` once it holds the route's
    records (approved, delegated, the two signatures, completed); those records."""
    async def holds() -> list[dict]:
        exported = await client.get(f"{API}/documents/{doc_id}/audit/export", headers=owner["headers"])
        assert exported.status_code == 200, exported.text
        records = [r for r in exported.json()["records"] if r["details"].get("request_id") == request_id]
        actions = [r["action"] for r in records]
        assert {"approved", "delegated", "completed"} <= set(actions) and actions.count("signed") >= 2, actions
        path.write_text(exported.text)
        return records

    return await eventually(holds, timeout=60, what="the route's records in the audit export")  # type: ignore[no-any-return]


async def test_scenario_1_approve_delegate_sign_outsider_cc(client, events, account, smtp_sink, trusted_ca,
                                                            platform_env, tmp_path) -> None:
    title = f"Supply contract {uuid.uuid4().hex[:6]}"
    owner, lawyer, director, deputy, accounting = [
        await account(name) for name in ("Olga", "Lawyer", "Director", "Deputy", "Accounting")]
    counterparty = f"partner-{uuid.uuid4().hex[:8]}@counterparty.kz"
    deputy_key = trusted_ca.issue("Deputy")
    partner_key = trusted_ca.issue("Partner LLP")
    partner_cert, partner_private = partner_key.write(tmp_path / "partner", "partner")

    async def deputy_certificate():
        challenge = await client.post(f"{API}/certificates/challenges", headers=deputy["headers"])
        text = challenge.json()["challenge"]
        proof = base64.b64encode(openssl_sign(text.encode(), *deputy_key.write(tmp_path / "deputy", "deputy"),
                                              tmp_path)).decode()
        response = await client.post(f"{API}/certificates", json={"pem": deputy_key.cert_pem.decode()}, headers={
            **deputy["headers"], "DocFlow-Key-Challenge": text, "DocFlow-Key-Proof": proof})
        assert response.status_code == 201, response.text  # once the trust store is read again
        return response

    await eventually(deputy_certificate, timeout=30, what="the deputy's certificate")
    doc_id, file_id, content = await document_with_file(client, owner, title)
    request = await open_route(client, owner, doc_id, {"stages": [
        stage((lawyer["email"], "approve")), stage((director["email"], "sign")),
        stage((counterparty, "sign"), external=True), stage((accounting["email"], "cc"))]})
    base = f"{API}/documents/{doc_id}/signature-requests/{request['id']}"

    await mail(smtp_sink, lawyer["email"], "approve")
    approved = await client.post(f"{base}/approve", headers=lawyer["headers"])
    assert approved.status_code == 202, approved.text
    await mail(smtp_sink, director["email"], re.escape(title))  # asked to sign
    until = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    delegated = await client.post(f"{base}/delegate", json={"email": deputy["email"], "until": until},
                                  headers=director["headers"])
    assert delegated.status_code == 202, delegated.text
    await mail(smtp_sink, deputy["email"], "delegates")
    signature = openssl_sign(content, *deputy_key.write(tmp_path / "deputy", "deputy"), tmp_path)
    signed = await until_status(lambda: client.post(
        f"{API}/documents/{doc_id}/files/{file_id}/signatures",
        headers={**deputy["headers"], "User-Agent": "deputy/1.0"},
        files={"signature": ("d.p7s", signature, "application/pkcs7-signature")}), 201, "the deputy's signature")
    assert signed.json()["on_behalf_of"] == director["id"]

    invitation = await mail(smtp_sink, counterparty, re.escape(title))
    token = re.search(r"/external/([A-Za-z0-9_-]+)", text_of(invitation)).group(1)  # type: ignore[union-attr]
    opened = await client.get(f"{API}/external/{token}")
    assert opened.status_code == 200, opened.text
    code_mail = await mail(smtp_sink, counterparty, "code")
    code = re.search(r"\b(\d{6})\b", str(code_mail["Subject"])).group(1)  # type: ignore[union-attr]
    session = await client.post(f"{API}/external/{token}/code", json={"code": code})
    assert session.status_code == 200, session.text
    headers = {SESSION: session.json()["session_token"]}
    assert (await client.get(f"{API}/external/{token}")).status_code == 410  # the link is spent
    download = await until_status(lambda: client.get(f"{API}/external/session/files/{file_id}/content",
                                                     headers=headers), 200, "the outsider's download")
    assert download.content == content
    challenge = await until_status(lambda: client.post(f"{API}/external/session/certificates/challenges",
                                                       headers=headers), 201, "signing knowing the session")
    text = challenge.json()["challenge"]
    proof = base64.b64encode(openssl_sign(text.encode(), partner_cert, partner_private, tmp_path)).decode()
    registered = await client.post(f"{API}/external/session/certificates", json={"pem": partner_key.cert_pem.decode()},
                                   headers={**headers, "DocFlow-Key-Challenge": text, "DocFlow-Key-Proof": proof})
    assert registered.status_code == 201, registered.text
    cms = openssl_sign(content, partner_cert, partner_private, tmp_path)
    outsider_signed = await until_status(lambda: client.post(
        f"{API}/external/session/files/{file_id}/signatures", headers={**headers, "User-Agent": "partner/2.0"},
        files={"signature": ("p.p7s", cms, "application/pkcs7-signature")}), 201, "the counterparty's signature")
    assert outsider_signed.json()["request_id"] == request["id"]

    completed = await events.wait_for("route.completed", lambda e: e.data["request_id"] == request["id"])
    assert accounting["id"] in {p["user_id"] for p in completed.data["participants"]}
    evidence = f"{platform_env['PUBLIC_BASE_URL'].rstrip('/')}{API}/documents/{doc_id}/evidence"
    for address in (accounting["email"], counterparty):  # everyone, with the evidence link
        done = await mail(smtp_sink, address, "signed by everyone|подписан всеми")
        assert evidence in text_of(done), text_of(done)
    final = (await client.get(f"{API}/documents/{doc_id}/signature-requests", headers=owner["headers"])).json()
    assert final["items"][0]["status"] == "completed"
    assert [s["status"] for s in final["items"][0]["signers"]] == ["approved", "signed", "signed", "pending"]
    for kind in ("route.approved", "route.delegated", "route.completed"):
        assert [e for e in events.of_type(kind) if e.data["request_id"] == request["id"]], kind

    # the audit chain verifies: the route's records, exported by the owner and checked offline
    export = tmp_path / "audit-export.json"
    records = await route_in_audit_export(client, owner, doc_id, export, request["id"])
    approved_by = next(r for r in records if r["action"] == "approved")
    assert approved_by["actor"]["user_id"] == lawyer["id"]
    handed = next(r for r in records if r["action"] == "delegated")
    assert handed["actor"]["user_id"] == director["id"] and handed["details"]["delegate"]["user_id"] == deputy["id"]
    signatures = [r for r in records if r["action"] == "signed"]
    for_director = next(r for r in signatures if r["actor"]["user_id"] == deputy["id"])
    assert for_director["on_behalf_of"]["user_id"] == director["id"]
    outsider = next(r for r in signatures if r["actor"]["email"] == counterparty)
    assert outsider["on_behalf_of"] is None
    # each signature records where its upload came from, as every other action does
    assert (for_director["client"]["user_agent"], outsider["client"]["user_agent"]) == ("deputy/1.0", "partner/2.0")
    assert for_director["client"]["ip"] == outsider["client"]["ip"] == "127.0.0.1"
    assert any(r["action"] == "completed" for r in records)
    verified = verify_audit_export(export)
    assert verified.returncode == 0, verified.stderr
    edited = json.loads(export.read_text())
    at = next(i for i, r in enumerate(edited["records"]) if r["seq"] == for_director["seq"])
    edited["records"][at]["on_behalf_of"] = None  # as if the deputy had signed for themselves
    tampered = tmp_path / "audit-edited.json"
    tampered.write_text(json.dumps(edited))
    broken = verify_audit_export(tampered)
    assert broken.returncode == 1, broken.stdout
    assert f"seq {for_director['seq']}" in broken.stderr


async def test_scenario_2_decline_at_stage_two_stops_the_route(client, events, account, smtp_sink, trusted_ca) -> None:
    title = f"Lease {uuid.uuid4().hex[:6]}"
    owner, lawyer, director, accounting = [
        await account(name) for name in ("Olga", "Lawyer", "Director", "Accounting")]
    doc_id, _, _ = await document_with_file(client, owner, title)
    request = await open_route(client, owner, doc_id, {"stages": [
        stage((lawyer["email"], "approve")), stage((director["email"], "sign")), stage((accounting["email"], "cc"))]})
    base = f"{API}/documents/{doc_id}/signature-requests/{request['id']}"
    assert (await client.post(f"{base}/approve", headers=lawyer["headers"])).status_code == 202
    await events.wait_for("route.stage_opened", lambda e: e.data["request_id"] == request["id"]
                          and e.data["stage"] == 1)
    reason = "Пени в п. 7 выше согласованных"
    declined = await client.post(f"{base}/decline", json={"reason": reason}, headers=director["headers"])
    assert declined.status_code == 202, declined.text
    for person in (owner, lawyer, accounting):
        message = await mail(smtp_sink, person["email"], "declined")
        assert reason in text_of(message)
    final = (await client.get(f"{API}/documents/{doc_id}/signature-requests", headers=owner["headers"])).json()
    assert final["items"][0]["status"] == "declined"
    assert (await client.post(f"{base}/approve", headers=lawyer["headers"])).status_code == 409
    await asyncio.sleep(0)
    assert not [e for e in events.of_type("route.completed") if e.data["request_id"] == request["id"]]


async def test_scenario_3_expiry(client, events, account, smtp_sink, trusted_ca) -> None:
    title = f"Offer {uuid.uuid4().hex[:6]}"
    owner, lawyer = [await account(name) for name in ("Olga", "Lawyer")]
    doc_id, _, _ = await document_with_file(client, owner, title)
    expires = (datetime.now(UTC) + timedelta(seconds=4)).isoformat()
    request = await open_route(client, owner, doc_id, {"stages": [stage((lawyer["email"], "approve"))],
                                                       "expires_at": expires})
    expired = await events.wait_for("route.expired", lambda e: e.data["request_id"] == request["id"], timeout=30)
    assert [p["user_id"] for p in expired.data["pending"]] == [lawyer["id"]]
    await mail(smtp_sink, owner["email"], "expired")
    await mail(smtp_sink, lawyer["email"], "expired")
    final = (await client.get(f"{API}/documents/{doc_id}/signature-requests", headers=owner["headers"])).json()
    assert final["items"][0]["status"] == "expired"
    late = await client.post(f"{API}/documents/{doc_id}/signature-requests/{request['id']}/approve",
                             headers=lawyer["headers"])
    assert late.status_code == 409 and late.json()["type"].endswith("request-closed")
