"""The projection built from user.* and document.* events, and what deletions clean up."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime

from docflow_shared.events import new_event
from docflow_shared.events.catalogue import (
    DocumentDeleted,
    DocumentFileAdded,
    DocumentFileRemoved,
    DocumentShared,
    DocumentShareRevoked,
    DocumentUpdated,
    RouteAccessChanged,
    RouteParticipantAccess,
    UserDeleted,
    UserUpdated,
)
from docflow_signing.crypto.devca import sign_detached


class TestDocumentDeleted:
    async def test_drops_document_files_grants_and_route_access(self, world, pki) -> None:
        owner, signer = await world.user("Owner"), await world.user("Signer")
        cert = pki.issue("Owner")
        await world.upload_certificate(owner, cert)
        doc = await world.document(owner, {"a.pdf": os.urandom(500), "b.pdf": os.urandom(500)})
        await world.share(doc, signer, "sign")
        await world.publish(RouteAccessChanged(
            request_id="srq_0123456789abcdef01234567", document_id=doc.id, owner_id=owner.id, version=1,
            open=True, participants=[RouteParticipantAccess(user_id=signer.id, access="sign")]))
        await world.wait_for("route_access", {"document_id": doc.id, "user_id": signer.id})
        deleted = await world.publish(DocumentDeleted(document_id=doc.id, owner_id=owner.id))
        await world.handled(deleted)  # route access is forgotten after the tombstone is written
        assert await world.db.files.count_documents({"document_id": doc.id}) == 0
        assert await world.db.grants.count_documents({"document_id": doc.id}) == 0
        assert await world.db.route_access.count_documents({"document_id": doc.id}) == 0
        for user in (owner, signer):
            listed = await world.http.get(f"/api/v1/documents/{doc.id}/signatures", headers=user.headers)
            assert listed.status_code == 404
        late = await world.sign(owner, doc, "a.pdf", sign_detached(doc.content["a.pdf"], cert))
        assert late.status_code == 404

    async def test_late_events_do_not_bring_a_deleted_document_back(self, world) -> None:
        owner = await world.user()
        doc = await world.document(owner, {})
        await world.publish(DocumentDeleted(document_id=doc.id, owner_id=owner.id))
        await world.wait_for("documents", {"_id": doc.id, "deleted": True})
        stale = DocumentUpdated(document_id=doc.id, owner_id=owner.id, title="Old", status="draft", version=2)
        event = new_event(stale, producer="documents")
        event = event.model_copy(update={"occurred_at": datetime(2020, 1, 1, tzinfo=UTC)})
        await world.bus.publish(event)
        late = await world.publish(DocumentFileAdded(
            document_id=doc.id, file_id=f"fil_{os.urandom(6).hex()}", owner_id=owner.id, name="late.pdf", size=4,
            sha256=hashlib.sha256(b"late").hexdigest(), content_type="application/pdf"))
        await world.handled(event, late)
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
    async def test_removes_certificates_projection_and_route_access(self, world, pki) -> None:
        owner = await world.user("Owner")
        leaving, staying = await world.user("Leaving", iin="900101300123"), await world.user("Staying")
        certs = {}
        for user in (leaving, staying):
            certs[user.id] = pki.issue(user.full_name, iin=user.iin)
            await world.upload_certificate(user, certs[user.id])
        doc = await world.document(owner, {"a.pdf": b"contract"})
        await world.publish(RouteAccessChanged(
            request_id="srq_0123456789abcdef01234568", document_id=doc.id, owner_id=owner.id, version=1,
            open=True, participants=[RouteParticipantAccess(user_id=u.id, access="sign") for u in (leaving, staying)]))
        await world.wait_for("route_access", {"document_id": doc.id, "user_id": leaving.id})

        deleted = await world.publish(UserDeleted(user_id=leaving.id, deleted_at=datetime.now(UTC)))
        # the tombstone is the handler's first write; the certificates and route access go after it
        await world.handled(deleted)
        assert await world.db.route_access.count_documents({"user_id": leaving.id}) == 0
        assert await world.db.certificates.count_documents({"user_id": leaving.id}) == 0
        # the deleted account's token is refused outright (the deny-list), its certificates are gone
        assert (await world.http.get("/api/v1/certificates", headers=leaving.headers)).status_code == 401
        assert len((await world.http.get("/api/v1/certificates", headers=staying.headers)).json()["items"]) == 1
        stored = await world.db.users.find_one({"_id": leaving.id})
        assert "email" not in stored and "iin" not in stored

        back = await world.publish(UserUpdated(user_id=leaving.id, email=leaving.email, full_name="Back"))
        await world.handled(back)
        assert (await world.db.users.find_one({"_id": leaving.id}))["deleted"] is True


class TestIdempotency:
    async def test_redelivered_event_has_one_effect(self, world) -> None:
        user = await world.user("Before")
        event = new_event(UserUpdated(user_id=user.id, email="new@example.kz", full_name="After"), producer="auth")
        await world.bus.publish(event)
        await world.handled(event)
        assert (await world.db.users.find_one({"_id": user.id}))["full_name"] == "After"
        # every user.updated so far ran once and left a mark; once all are acknowledged, the next
        # acknowledgement is the redelivery's, whose run leaves no mark of its own to wait for
        first_runs = await world.db.processed_events.count_documents({"type": UserUpdated.TYPE})
        await world.wait_acknowledged(UserUpdated.TYPE, first_runs)
        await world.db.users.update_one({"_id": user.id}, {"$set": {"full_name": "Changed since"}})
        await world.bus.publish(event)
        await world.wait_acknowledged(UserUpdated.TYPE, first_runs + 1)
        assert (await world.db.users.find_one({"_id": user.id}))["full_name"] == "Changed since"
        assert await world.db.processed_events.count_documents({"_id": f"signing:{event.id}"}) == 1

    async def test_older_profile_update_does_not_overwrite_a_newer_one(self, world) -> None:
        user = await world.user("Current")
        newer = new_event(UserUpdated(user_id=user.id, email=user.email, full_name="Newest"), producer="auth")
        older = new_event(UserUpdated(user_id=user.id, email=user.email, full_name="Older"), producer="auth")
        older = older.model_copy(update={"occurred_at": datetime(2021, 1, 1, tzinfo=UTC)})
        await world.bus.publish(newer)
        await world.wait_for("users", {"_id": user.id, "full_name": "Newest"})
        await world.bus.publish(older)
        await world.handled(older)
        assert (await world.db.users.find_one({"_id": user.id}))["full_name"] == "Newest"


class TestGrantOrder:
    async def test_revoke_delivered_before_its_grant_leaves_no_access(self, world, pki) -> None:
        owner, former = await world.user("Owner"), await world.user("Former recipient")
        cert = pki.issue(former.full_name)
        await world.upload_certificate(former, cert)
        doc = await world.document(owner, {"a.pdf": b"contract"})
        # the owner shared at version 1 and revoked at version 2; the broker hands over the revoke first
        revoke = new_event(DocumentShareRevoked(document_id=doc.id, owner_id=owner.id, recipient_id=former.id,
                                                grant_version=2), producer="documents")
        grant = new_event(DocumentShared(document_id=doc.id, title=doc.title, owner=owner.person,
                                         recipient=former.person, permission="sign", grant_version=1),
                          producer="documents")
        await world.bus.publish(revoke)
        await world.wait_for("processed_events", {"_id": f"signing:{revoke.id}"})
        await world.bus.publish(grant)
        await world.wait_for("processed_events", {"_id": f"signing:{grant.id}"})
        signed = await world.sign(former, doc, "a.pdf", sign_detached(b"contract", cert))
        assert signed.status_code == 404, signed.text
        assert (await world.http.get(f"/api/v1/documents/{doc.id}/signatures",
                                     headers=former.headers)).status_code == 404
        # a later share (a newer version) still counts
        await world.publish(DocumentShared(document_id=doc.id, title=doc.title, owner=owner.person,
                                           recipient=former.person, permission="sign", grant_version=3))
        await world.wait_for("grants", {"_id": f"{doc.id}:{former.id}", "permission": "sign"})
        assert (await world.sign(former, doc, "a.pdf", sign_detached(b"contract", cert))).status_code == 201
