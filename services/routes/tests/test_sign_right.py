"""A route that requires the right to sign: a Kazakh (NCA RK) signature by an employee without it is
recorded and shown, and does not complete the step; the head's signature does. Through the gateway in
front of routes and signing, with the Kazakh test PKI (``services/signing/tests/fixtures/kz-gost``)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import x509

from docflow_dev.testing.asserts import eventually
from docflow_shared.events.catalogue import DocumentFileDigested
from docflow_signing.crypto import kzkeys, streebog
from docflow_signing.crypto.certificates import pem_of
from docflow_signing.crypto.kzkeys import KzKey

KZ = Path(__file__).resolve().parents[2] / "signing" / "tests" / "fixtures" / "kz-gost"
INTERMEDIATE = x509.Certificate.load((KZ / "nca_gost2022_test.cer").read_bytes())
PASSWORD = "Qwerty12"
ROUTES_ENV = {"SIGNING_TRUST_DIR": str(KZ / "trust"), "SIGNING_DIGEST_WAIT_SECONDS": "30"}

pytestmark = pytest.mark.skipif(not streebog.available(),
                                reason="OpenSSL's GOST provider (libengine-gost-openssl) is not installed")


def load_key(stem: str) -> KzKey:
    cert = x509.Certificate.load((KZ / f"{stem}.cert.der").read_bytes())
    key = kzkeys.read_pkcs12((KZ / f"{stem}.p12").read_bytes(), PASSWORD, cert)
    validity = cert["tbs_certificate"]["validity"]
    if not validity["not_before"].native <= datetime.now(UTC) <= validity["not_after"].native:
        pytest.skip("the NCA RK test certificate has expired: refresh the signing service's fixtures")
    return key


async def register(world, user, key: KzKey) -> None:
    """Upload ``key``'s certificate (with the intermediate CA) for ``user``, proving its key."""
    challenge = (await world.http.post("/api/v1/certificates/challenges", headers=user.headers)).json()["challenge"]
    response = await world.http.post(
        "/api/v1/certificates", json={"pem": pem_of(key.cert.dump()) + pem_of(INTERMEDIATE.dump())},
        headers={**user.headers, "DocFlow-Key-Challenge": challenge,
                 "DocFlow-Key-Proof": kzkeys.key_proof(challenge, key)})
    assert response.status_code == 201, response.text


async def kz_sign(world, route_events, user, doc, key: KzKey):
    """Sign the contract with ``key`` while playing documents: answer signing's request for the
    file's Streebog digests (once per file; later signatures find them known)."""
    content = doc.content["contract.pdf"]
    file_id = doc.files["contract.pdf"]
    cms = kzkeys.sign_detached(content, key, chain=[INTERMEDIATE])
    task = asyncio.create_task(world.sign(user, doc, "contract.pdf", cms))
    try:
        await route_events.wait_for("signature.file_digests_requested",
                                    lambda e: e.data["file_id"] == file_id, timeout=15)
    except AssertionError:
        return await task
    await world.publish(DocumentFileDigested(
        document_id=doc.id, file_id=file_id, sha256=hashlib.sha256(content).hexdigest(),
        streebog256=streebog.digest(content, 256).hex(), streebog512=streebog.digest(content, 512).hex()))
    return await task


async def read(world, owner, doc) -> dict:
    listed = await world.http.get(f"/api/v1/documents/{doc.id}/signature-requests", headers=owner.headers)
    assert listed.status_code == 200, listed.text
    return listed.json()["items"][0]  # type: ignore[no-any-return]


async def test_a_signature_without_the_right_to_sign_leaves_the_signer_pending(world, route_events) -> None:
    employee, head = load_key("legal/valid/employee"), load_key("legal/valid/head")
    owner, signer = await world.user("Owner"), await world.user("Signer")
    await register(world, signer, employee)
    await register(world, signer, head)
    doc = await world.document(owner, {"contract.pdf": os.urandom(3000)}, title="Supply contract")
    created = await world.http.post(
        f"/api/v1/documents/{doc.id}/signature-requests",
        json={"stages": [{"participants": [{"email": signer.email}], "require_sign_right": True}]},
        headers=owner.headers)
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["signers"][0]["require_sign_right"] is True
    await route_events.wait_for("signature.requested", lambda e: e.data["request_id"] == request["id"])

    unauthorised = await kz_sign(world, route_events, signer, doc, employee)
    assert unauthorised.status_code == 201, unauthorised.text
    assert unauthorised.json()["report"]["kz_signer"]["sign_right"] is False

    async def reported() -> dict | None:
        entry = (await read(world, owner, doc))["signers"][0]
        return entry if entry["signatures_without_sign_right"] else None

    entry = await eventually(reported, timeout=30, what="the signature without the right to sign is reported")
    assert entry["status"] == "pending" and entry["signature_id"] is None
    assert entry["signatures_without_sign_right"] == [
        {"signature_id": unauthorised.json()["id"], "signed_at": entry["signatures_without_sign_right"][0]["signed_at"],
         "signer_role": "employee"}]
    assert (await read(world, owner, doc))["status"] == "open"

    authorised = await kz_sign(world, route_events, signer, doc, head)
    assert authorised.status_code == 201, authorised.text
    await route_events.wait_for("route.completed", lambda e: e.data["request_id"] == request["id"])
    final = await read(world, owner, doc)
    assert final["status"] == "completed"
    assert final["signers"][0]["status"] == "signed"
    assert final["signers"][0]["signature_id"] == authorised.json()["id"]
    assert [s["signature_id"] for s in final["signers"][0]["signatures_without_sign_right"]] == [
        unauthorised.json()["id"]]


async def test_without_the_option_the_employees_signature_completes_the_route(world, route_events) -> None:
    employee = load_key("legal/valid/employee")
    owner, signer = await world.user("Owner"), await world.user("Employee")
    held = await world.signing_db.certificates.find_one(
        {"fingerprint_sha256": hashlib.sha256(employee.cert.dump()).hexdigest(), "active": True})
    if held is not None:  # one account per certificate: the first test's signer gives it up
        token = world.issuer.token(held["user_id"])
        deleted = await world.http.delete(f"/api/v1/certificates/{held['_id']}",
                                          headers={"Authorization": f"Bearer {token}"})
        assert deleted.status_code == 204, deleted.text
    await register(world, signer, employee)
    doc = await world.document(owner, {"contract.pdf": os.urandom(3000)}, title="Order")
    created = await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests",
                                    json={"signers": [signer.email]}, headers=owner.headers)
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["signers"][0]["require_sign_right"] is False
    await route_events.wait_for("signature.requested", lambda e: e.data["request_id"] == request["id"])
    signed = await kz_sign(world, route_events, signer, doc, employee)
    assert signed.status_code == 201, signed.text
    await route_events.wait_for("route.completed", lambda e: e.data["request_id"] == request["id"])
    final = await read(world, owner, doc)
    assert final["signers"][0]["status"] == "signed" and final["signers"][0]["signatures_without_sign_right"] == []


async def test_the_request_wide_option_applies_to_every_signer_not_to_approvers(world) -> None:
    owner, approver, first, second = [await world.user(n) for n in ("Owner", "Approver", "First", "Second")]
    doc = await world.document(owner, {"contract.pdf": os.urandom(1000)}, title="Lease")
    created = await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests", json={
        "require_sign_right": True,
        "stages": [{"participants": [{"email": approver.email, "role": "approve"}]},
                   {"participants": [{"email": first.email}, {"email": second.email}]}]}, headers=owner.headers)
    assert created.status_code == 201, created.text
    assert [s["require_sign_right"] for s in created.json()["signers"]] == [False, True, True]
    assert all(s["signatures_without_sign_right"] == [] for s in created.json()["signers"])
