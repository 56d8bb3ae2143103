"""The projection built from user.* and document.* events, and what deletions clean up."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

from docflow_shared.events import new_event
from docflow_shared.events.catalogue import (
    DocumentDeleted,
    DocumentFileRemoved,
    DocumentUpdated,
    UserDeleted,
    UserUpdated,
)
from docflow_signing.crypto.devca import sign_detached


class TestDocumentDeleted:
    async def test_drops_document_files_grants_and_open_requests(self, world, pki, signing_events) -> None:
        owner, signer = await world.user("Owner"), await world.user("Signer")
        cert = pki.issue("Owner")
        await world.upload_certificate(owner, cert)
        doc = await world.document(owner, {"a.pdf": os.urandom(500), "b.pdf": os.urandom(500)})
        await world.share(doc, signer, "sign")
        created = await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests",
                                         json={"signers": [signer.email]}, headers=owner.headers)
        assert created.status_code == 201
        await world.publish(DocumentDeleted(document_id=doc.id, owner_id=owner.id))
        await world.wait_for("documents", {"_id": doc.id, "deleted": True})
        await signing_events.wait_for("signature.request_cancelled",
                                      lambda e: e.data["request_id"] == created.json()["id"])
        assert await world.db.files.count_documents({"document_id": doc.id}) == 0
        assert await world.db.grants.count_documents({"document_id": doc.id}) == 0
        request = await world.db.signature_requests.find_one({"_id": created.json()["id"]})
        assert request["status"] == "cancelled" and request["close_reason"] == "document deleted"
        for user in (owner, signer):
            listed = await world.http.get(f"/api/v1/documents/{doc.id}/signatures", headers=user.headers)
            assert listed.status_code == 404
        late = await world.sign(owner, doc, "a.pdf", sign_detached(doc.content["a.pdf"], cert))
        assert late.status_code == 404
        assert (await world.http.get("/api/v1/signature-requests", headers=signer.headers)).json()["items"] == []

    async def test_late_events_do_not_bring_a_deleted_document_back(self, world) -> None:
        owner = await world.user()
        doc = await world.document(owner, {})
        await world.publish(DocumentDeleted(document_id=doc.id, owner_id=owner.id))
        await world.wait_for("documents", {"_id": doc.id, "deleted": True})
        stale = DocumentUpdated(document_id=doc.id, owner_id=owner.id, title="Old", status="draft", version=2)
        event = new_event(stale, producer="test")
        event = event.model_copy(update={"occurred_at": datetime(2020, 1, 1, tzinfo=UTC)})
        await world.bus.publish(event)
        await world.add_file(doc, "late.pdf", b"late")
        await asyncio.sleep(1.5)
        assert (await world.db.documents.find_one({"_id": doc.id}))["deleted"] is True
        assert await world.db.files.count_documents({"document_id": doc.id}) == 0

    async def test_file_removed_cannot_be_signed(self, world, pki) -> None:
        owner, cert = await world.user(), pki.issue("O")
        await world.upload_certificate(owner, cert)
        doc = await world.document(owner, {"a.pdf": b"a"})
        await world.publish(DocumentFileRemoved(document_id=doc.id, file_id=doc.files["a.pdf"], owner_id=owner.id))
        await world.wait_for("files", {"_id": doc.files["a.pdf"], "removed": True})
        assert (await world.sign(owner, doc, "a.pdf", sign_detached(b"a", cert))).status_code == 404


class TestUserDeleted:
    async def test_removes_certificates_projection_and_pending_entries(self, world, pki, signing_events) -> None:
        owner = await world.user("Owner")
        leaving, staying = await world.user("Leaving", iin="900101300123"), await world.user("Staying")
        certs = {}
        for user in (leaving, staying):
            certs[user.id] = pki.issue(user.full_name, iin=user.iin)
            await world.upload_certificate(user, certs[user.id])
        doc = await world.document(owner, {"a.pdf": b"contract"})
        request = await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests",
                                         json={"signers": [staying.email, leaving.email]}, headers=owner.headers)
        assert request.status_code == 201
        request_id = request.json()["id"]
        signed = await world.sign(staying, doc, "a.pdf", sign_detached(b"contract", certs[staying.id]))
        assert signed.status_code == 201

        await world.publish(UserDeleted(user_id=leaving.id, deleted_at=datetime.now(UTC)))
        await world.wait_for("users", {"_id": leaving.id, "deleted": True})
        completed = await signing_events.wait_for("document.completed", lambda e: e.data["request_id"] == request_id)
        assert {p["user_id"] for p in completed.data["participants"]} == {owner.id, staying.id}
        assert await world.db.certificates.count_documents({"user_id": leaving.id}) == 0
        assert (await world.http.get("/api/v1/certificates", headers=leaving.headers)).json()["items"] == []
        assert len((await world.http.get("/api/v1/certificates", headers=staying.headers)).json()["items"]) == 1
        entry = await world.db.request_signers.find_one({"request_id": request_id, "user_id": leaving.id})
        assert entry["status"] == "removed"
        stored = await world.db.users.find_one({"_id": leaving.id})
        assert "email" not in stored and "iin" not in stored

        await world.publish(UserUpdated(user_id=leaving.id, email=leaving.email, full_name="Back"))
        await asyncio.sleep(1)
        assert (await world.db.users.find_one({"_id": leaving.id}))["deleted"] is True

    async def test_owner_deleted_cancels_their_open_requests(self, world, pki, signing_events) -> None:
        owner, signer = await world.user(), await world.user()
        doc = await world.document(owner, {"a.pdf": b"x"})
        created = await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests",
                                         json={"signers": [signer.email]}, headers=owner.headers)
        await world.publish(UserDeleted(user_id=owner.id, deleted_at=datetime.now(UTC)))
        await signing_events.wait_for("signature.request_cancelled",
                                      lambda e: e.data["request_id"] == created.json()["id"])


class TestIdempotency:
    async def test_redelivered_event_has_one_effect(self, world) -> None:
        user = await world.user("Before")
        event = new_event(UserUpdated(user_id=user.id, email="new@example.kz", full_name="After"), producer="test")
        await world.bus.publish(event)
        await world.wait_for("users", {"_id": user.id, "full_name": "After"})
        await world.db.users.update_one({"_id": user.id}, {"$set": {"full_name": "Changed since"}})
        await world.bus.publish(event)
        await asyncio.sleep(1.5)
        assert (await world.db.users.find_one({"_id": user.id}))["full_name"] == "Changed since"
        assert await world.db.processed_events.count_documents({"_id": f"signing:{event.id}"}) == 1

    async def test_older_profile_update_does_not_overwrite_a_newer_one(self, world) -> None:
        user = await world.user("Current")
        newer = new_event(UserUpdated(user_id=user.id, email=user.email, full_name="Newest"), producer="test")
        older = new_event(UserUpdated(user_id=user.id, email=user.email, full_name="Older"), producer="test")
        older = older.model_copy(update={"occurred_at": datetime(2021, 1, 1, tzinfo=UTC)})
        await world.bus.publish(newer)
        await world.wait_for("users", {"_id": user.id, "full_name": "Newest"})
        await world.bus.publish(older)
        await asyncio.sleep(1.5)
        assert (await world.db.users.find_one({"_id": user.id}))["full_name"] == "Newest"
