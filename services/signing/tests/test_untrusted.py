"""SIGNING_ALLOW_UNTRUSTED=true: intact signatures from unknown CAs are stored as untrusted."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from docflow_signing.crypto.devca import (
    issue_user_certificate,
    sign_detached,
    twin,
    with_embedded,
)

SIGNING_ENV = {"SIGNING_ALLOW_UNTRUSTED": "true"}


class TestAllowedUntrusted:
    async def test_untrusted_certificate_and_signature_are_stored_as_untrusted(self, world, pki) -> None:
        owner = await world.user()
        rogue = issue_user_certificate(pki.rogue, "Self Issued", key_type="rsa")
        cert = await world.upload_certificate(owner, rogue)
        assert cert["trusted"] is False and "trusted CA" in cert["trust_problem"]
        doc = await world.document(owner, {"a.pdf": os.urandom(100)})
        response = await world.sign(owner, doc, "a.pdf", sign_detached(doc.content["a.pdf"], rogue))
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["trusted"] is False and body["report"]["intact"] and body["report"]["valid"]
        assert any("trusted CA" in p for p in body["report"]["problems"])

    async def test_still_rejected_when_tampered_or_expired(self, world, pki) -> None:
        owner = await world.user()
        rogue = issue_user_certificate(pki.rogue, "Self Issued")
        await world.upload_certificate(owner, rogue)
        doc = await world.document(owner, {"a.pdf": b"one", "b.pdf": b"two"})
        mismatch = await world.sign(owner, doc, "b.pdf", sign_detached(b"one", rogue))
        assert mismatch.status_code == 422
        now = datetime.now(UTC)
        old = issue_user_certificate(pki.rogue, "Old", not_before=now - timedelta(days=5),
                                     not_after=now - timedelta(days=1))
        upload = await world.http.post("/api/v1/certificates", content=old.cert_pem, headers=owner.headers)
        assert upload.status_code == 422

    async def test_trusted_signatures_stay_trusted(self, world, pki) -> None:
        owner, issued = await world.user(), pki.issue("Trusted")
        await world.upload_certificate(owner, issued)
        doc = await world.document(owner, {"a.pdf": b"content"})
        response = await world.sign(owner, doc, "a.pdf", sign_detached(b"content", issued))
        assert response.status_code == 201 and response.json()["trusted"] is True


class TestSignerBinding:
    """Even where untrusted signatures are stored, only the registered certificate verifies one."""

    async def test_a_twin_of_the_registered_certificate_is_refused(self, world, pki) -> None:
        owner = await world.user()
        registered = issue_user_certificate(pki.rogue, "Registered")
        await world.upload_certificate(owner, registered)
        doc = await world.document(owner, {"a.pdf": os.urandom(100)})
        forged = twin(registered)
        signature = sign_detached(doc.content["a.pdf"], forged)
        for order in ([registered, forged], [forged, registered]):
            response = await world.sign(owner, doc, "a.pdf", with_embedded(signature, order))
            assert response.status_code == 422, response.text
            assert response.json()["type"].endswith("signer-ambiguous"), response.text
        alone = await world.sign(owner, doc, "a.pdf", with_embedded(signature, [forged]))
        assert alone.json()["type"].endswith("signer-not-yours"), alone.text
        # matched by issuer and serial among the owner's certificates, checked with that certificate's key
        bare = await world.sign(owner, doc, "a.pdf", with_embedded(signature, []))
        assert bare.status_code == 422 and bare.json()["type"].endswith("signature-invalid"), bare.text
        listed = await world.http.get(f"/api/v1/documents/{doc.id}/signatures", headers=owner.headers)
        assert listed.json()["items"] == []
