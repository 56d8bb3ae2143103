"""What deletions elsewhere do to routes: a deleted document or owner closes the request, a
deleted signer leaves it."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from docflow_dev.testing.asserts import eventually
from docflow_shared.events.catalogue import DocumentDeleted, UserDeleted
from docflow_signing.crypto.devca import sign_detached


class TestDocumentDeleted:
    async def test_cancels_the_open_request_and_signing_forgets_it(self, world, pki, route_events) -> None:
        owner, signer = await world.user("Owner"), await world.user("Signer")
        cert = pki.issue("Owner")
        await world.upload_certificate(owner, cert)
        doc = await world.document(owner, {"a.pdf": os.urandom(500)})
        created = await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests",
                                         json={"signers": [signer.email]}, headers=owner.headers)
        assert created.status_code == 201
        await world.publish(DocumentDeleted(document_id=doc.id, owner_id=owner.id))
        await world.wait_for("documents", {"_id": doc.id, "deleted": True})
        await route_events.wait_for("signature.request_cancelled",
                                    lambda e: e.data["request_id"] == created.json()["id"])
        request = await world.db.signature_requests.find_one({"_id": created.json()["id"]})
        assert request["status"] == "cancelled" and request["close_reason"] == "document deleted"
        for user in (owner, signer):
            listed = await world.http.get(f"/api/v1/documents/{doc.id}/signatures", headers=user.headers)
            assert listed.status_code == 404
        late = await world.sign(owner, doc, "a.pdf", sign_detached(doc.content["a.pdf"], cert))
        assert late.status_code == 404
        assert (await world.http.get("/api/v1/signature-requests", headers=signer.headers)).json()["items"] == []


class TestUserDeleted:
    async def test_a_deleted_signer_leaves_and_the_request_completes(self, world, pki, route_events) -> None:
        owner = await world.user("Owner")
        leaving, staying = await world.user("Leaving"), await world.user("Staying")
        cert = pki.issue(staying.full_name)
        await world.upload_certificate(staying, cert)
        doc = await world.document(owner, {"a.pdf": b"contract"})
        request = await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests",
                                         json={"signers": [staying.email, leaving.email]}, headers=owner.headers)
        assert request.status_code == 201
        request_id = request.json()["id"]

        async def signed():
            response = await world.sign(staying, doc, "a.pdf", sign_detached(b"contract", cert))
            assert response.status_code == 201, response.text
            return response

        await eventually(signed, timeout=30, what="the staying signer's signature")
        await world.publish(UserDeleted(user_id=leaving.id, deleted_at=datetime.now(UTC)))
        completed = await route_events.wait_for("document.completed", lambda e: e.data["request_id"] == request_id)
        assert {p["user_id"] for p in completed.data["participants"]} == {owner.id, staying.id}
        entry = await world.db.request_signers.find_one({"request_id": request_id, "user_id": leaving.id})
        assert entry["status"] == "removed"

    async def test_owner_deleted_cancels_their_open_requests(self, world, route_events) -> None:
        owner, signer = await world.user(), await world.user()
        doc = await world.document(owner, {"a.pdf": b"x"})
        created = await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests",
                                         json={"signers": [signer.email]}, headers=owner.headers)
        assert created.status_code == 201
        await world.publish(UserDeleted(user_id=owner.id, deleted_at=datetime.now(UTC)))
        await route_events.wait_for("signature.request_cancelled",
                                    lambda e: e.data["request_id"] == created.json()["id"])
