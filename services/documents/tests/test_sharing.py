"""Sharing, inbox, comments and contacts; signing's events in the inbox and the status."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

from docflow_dev.testing.events import EventTap
from docflow_shared.events import Person
from docflow_shared.events.catalogue import (
    DocumentCompleted,
    DocumentSigned,
    SignatureRequestCancelled,
    SignatureRequested,
    UserUpdated,
)


class TestShare:
    async def test_share_inbox_archive_unarchive(self, api: Any, make_user: Any, events: EventTap) -> None:
        owner = await make_user("Айгуль Сериккызы")
        reader = await make_user("John Smith", locale="en")
        doc = await api.create_document(owner, title="Устав")
        result = await api.shared(owner, doc["id"], [reader], "read", "Посмотрите, пожалуйста")
        assert result["shares"][0]["recipient_id"] == reader.id
        event = await events.wait_for("document.shared", lambda e: e.data["document_id"] == doc["id"])
        assert event.data["recipient"] == {"user_id": reader.id, "email": reader.email, "full_name": "John Smith",
                                           "locale": "en"}
        assert event.data["owner"]["email"] == owner.email and event.data["owner"]["full_name"] == owner.full_name
        assert event.data["permission"] == "read" and event.data["message"] == "Посмотрите, пожалуйста"

        inbox = (await api.http.get("/inbox", headers=reader.headers)).json()["items"]
        assert len(inbox) == 1 and inbox[0]["document_id"] == doc["id"] and inbox[0]["kind"] == "share"
        assert inbox[0]["sender_name"] == "Айгуль Сериккызы" and inbox[0]["archived"] is False
        item = inbox[0]["id"]
        archived = await api.http.post(f"/inbox/{item}/archive", headers=reader.headers)
        assert archived.status_code == 200 and archived.json()["archived"] is True
        assert (await api.http.get("/inbox", params={"archived": False}, headers=reader.headers)).json()["items"] == []
        only_archived = (await api.http.get("/inbox", params={"archived": True}, headers=reader.headers)).json()
        assert [i["id"] for i in only_archived["items"]] == [item]
        await api.http.post(f"/inbox/{item}/unarchive", headers=reader.headers)
        active = (await api.http.get("/inbox", params={"archived": False}, headers=reader.headers)).json()["items"]
        assert [i["id"] for i in active] == [item]
        assert (await api.http.get("/inbox", headers=owner.headers)).json()["items"] == []

        seen = await api.http.get(f"/documents/{doc['id']}", headers=reader.headers)
        assert seen.status_code == 200 and seen.json()["permission"] == "read"
        shared_list = (await api.http.get("/documents", params={"scope": "shared"}, headers=reader.headers)).json()
        assert [d["id"] for d in shared_list["items"]] == [doc["id"]]
        assert (await api.http.get("/documents", headers=reader.headers)).json()["items"] == []

    async def test_unproven_recipients_wait_and_can_be_revoked(self, api: Any, make_user: Any, problem: Any) -> None:
        owner, known = await make_user(), await make_user()
        squatter = await make_user(verified=False)
        doc = await api.create_document(owner)
        body = {"recipients": [known.email, "nobody@example.kz", "Ghost@Example.ru", squatter.email],
                "permission": "comment"}
        response = await api.http.post(f"/documents/{doc['id']}/share", json=body, headers=owner.headers)
        assert response.status_code == 201, response.text
        by_email = {s["email"]: s for s in response.json()["shares"]}
        assert by_email[known.email]["status"] == "active" and by_email[known.email]["recipient_id"] == known.id
        for email in ("nobody@example.kz", "ghost@example.ru", squatter.email):
            assert by_email[email]["status"] == "pending" and by_email[email]["recipient_id"] is None
            assert by_email[email]["permission"] == "comment"
        assert await api.db.shares.count_documents({"document_id": doc["id"]}) == 1
        assert await api.db.pending_shares.count_documents({"document_id": doc["id"]}) == 3
        problem(await api.http.get(f"/documents/{doc['id']}", headers=squatter.headers), 404)
        assert (await api.http.get("/inbox", headers=squatter.headers)).json()["items"] == []

        revoked = await api.http.delete(f"/documents/{doc['id']}/share/Nobody@example.kz", headers=owner.headers)
        assert revoked.status_code == 204
        assert await api.db.pending_shares.count_documents({"document_id": doc["id"]}) == 2
        problem(await api.http.delete(f"/documents/{doc['id']}/share/nobody@example.kz", headers=owner.headers), 404)

        problem(await api.share(owner, doc["id"], [owner]), 422)
        problem(await api.http.post(f"/documents/{doc['id']}/share", json={"recipients": []},
                                    headers=owner.headers), 422)
        problem(await api.http.post(f"/documents/{doc['id']}/share",
                                    json={"recipients": [known.email], "permission": "own"},
                                    headers=owner.headers), 422)

    async def test_revoke_makes_the_document_disappear(self, api: Any, make_user: Any, events: EventTap,
                                                       problem: Any) -> None:
        owner, reader = await make_user(), await make_user()
        doc = await api.create_document(owner)
        file = await api.uploaded(owner, doc["id"], os.urandom(100))
        await api.shared(owner, doc["id"], [reader])
        file_url = f"/documents/{doc['id']}/files/{file['id']}/content"
        assert (await api.http.get(file_url, headers=reader.headers)).status_code == 200
        response = await api.http.delete(f"/documents/{doc['id']}/share/{reader.id}", headers=owner.headers)
        assert response.status_code == 204
        problem(await api.http.get(f"/documents/{doc['id']}", headers=reader.headers), 404)
        problem(await api.http.get(file_url, headers=reader.headers), 404)
        assert (await api.http.get("/inbox", headers=reader.headers)).json()["items"] == []
        event = await events.wait_for("document.share_revoked", lambda e: e.data["document_id"] == doc["id"])
        assert event.data["recipient_id"] == reader.id and event.data["owner_id"] == owner.id
        problem(await api.http.delete(f"/documents/{doc['id']}/share/{reader.id}", headers=owner.headers), 404)
        # sharing again works after a revoke
        await api.shared(owner, doc["id"], [reader], "comment")
        assert (await api.http.get(f"/documents/{doc['id']}", headers=reader.headers)).json()["permission"] == "comment"
        # each share and revoke of the grant carries a newer version, so consumers can order them
        again = await events.wait_for("document.shared", lambda e: e.data["document_id"] == doc["id"]
                                      and e.data["permission"] == "comment")
        first = next(e for e in events.of_type("document.shared") if e.data["document_id"] == doc["id"])
        versions = [first.data["grant_version"], event.data["grant_version"], again.data["grant_version"]]
        assert len(versions) == 3 and versions[0] > 0 and versions == sorted(set(versions)), versions

    async def test_recipients_cannot_act_as_owner(self, api: Any, make_user: Any, problem: Any) -> None:
        owner, signer, third = await make_user(), await make_user(), await make_user()
        doc = await api.create_document(owner)
        file = await api.uploaded(owner, doc["id"], b"abc")
        await api.shared(owner, doc["id"], [signer], "sign")
        url = f"/documents/{doc['id']}"
        h = signer.headers
        problem(await api.http.patch(url, json={"title": "mine"}, headers=h), 403)
        problem(await api.http.delete(url, headers=h), 403)
        problem(await api.upload(signer, doc["id"], b"x"), 403)
        problem(await api.http.patch(f"{url}/files/{file['id']}", json={"name": "y"}, headers=h), 403)
        problem(await api.http.delete(f"{url}/files/{file['id']}", headers=h), 403)
        problem(await api.share(signer, doc["id"], [third]), 403)
        problem(await api.http.delete(f"{url}/share/{signer.id}", headers=h), 403)
        assert (await api.http.get(f"{url}/versions", headers=h)).status_code == 200
        assert (await api.http.get(f"{url}/files", headers=h)).json()["items"][0]["id"] == file["id"]


class TestComments:
    async def test_permissions(self, api: Any, make_user: Any, problem: Any) -> None:
        owner, reader, commenter = await make_user(), await make_user(), await make_user("Commenter")
        doc = await api.create_document(owner)
        await api.shared(owner, doc["id"], [reader], "read")
        await api.shared(owner, doc["id"], [commenter], "comment")
        url = f"/documents/{doc['id']}/comments"
        mine = await api.http.post(url, json={"body": "Согласовано"}, headers=commenter.headers)
        assert mine.status_code == 201 and mine.json()["author_name"] == "Commenter"
        owners = await api.http.post(url, json={"body": "Спасибо"}, headers=owner.headers)
        assert owners.status_code == 201
        problem(await api.http.post(url, json={"body": "hi"}, headers=reader.headers), 403)
        problem(await api.http.get(url, headers=reader.headers), 403)
        listed = (await api.http.get(url, headers=commenter.headers)).json()["items"]
        assert [c["body"] for c in listed] == ["Спасибо", "Согласовано"]

        comment = f"{url}/{mine.json()['id']}"
        problem(await api.http.patch(comment, json={"body": "changed"}, headers=owner.headers), 403)
        problem(await api.http.delete(comment, headers=owner.headers), 403)
        edited = await api.http.patch(comment, json={"body": "Согласовано с правками"}, headers=commenter.headers)
        assert edited.status_code == 200 and edited.json()["body"] == "Согласовано с правками"
        problem(await api.http.post(url, json={"body": "   "}, headers=owner.headers), 422)
        assert (await api.http.delete(comment, headers=commenter.headers)).status_code == 204
        problem(await api.http.get(comment, headers=commenter.headers), 405)
        problem(await api.http.delete(comment, headers=commenter.headers), 404)


class TestContacts:
    async def test_add_list_delete(self, api: Any, make_user: Any, problem: Any, publish: Any,
                                   wait_until: Any) -> None:
        owner, friend = await make_user(), await make_user("Асель")
        added = await api.http.post("/contacts", json={"email": friend.email.upper()}, headers=owner.headers)
        assert added.status_code == 201, added.text
        assert added.json()["user_id"] == friend.id and added.json()["full_name"] == "Асель"
        problem(await api.http.post("/contacts", json={"email": friend.email}, headers=owner.headers), 409)
        problem(await api.http.post("/contacts", json={"email": "nobody@example.kz"}, headers=owner.headers), 422)
        problem(await api.http.post("/contacts", json={"email": owner.email}, headers=owner.headers), 422)
        problem(await api.http.post("/contacts", json={"email": "not-an-email"}, headers=owner.headers), 422)

        await publish(UserUpdated(user_id=friend.id, email=friend.email, full_name="Асель Нурланова",
                                  email_verified=True))

        async def renamed() -> bool:
            items = (await api.http.get("/contacts", headers=owner.headers)).json()["items"]
            return [c["full_name"] for c in items] == ["Асель Нурланова"]

        await wait_until(renamed, what="the contact's new name")
        assert (await api.http.get("/contacts", headers=friend.headers)).json()["items"] == []
        contact = f"/contacts/{added.json()['id']}"
        problem(await api.http.delete(contact, headers=friend.headers), 404)
        assert (await api.http.delete(contact, headers=owner.headers)).status_code == 204
        assert (await api.http.get("/contacts", headers=owner.headers)).json()["items"] == []


class TestSigningEvents:
    async def test_requests_reach_the_inbox_and_completion_signs(self, api: Any, make_user: Any, publish: Any,
                                                                 wait_until: Any, events: EventTap) -> None:
        owner, signer = await make_user(), await make_user()
        doc = await api.create_document(owner, title="Контракт")
        await api.http.patch(f"/documents/{doc['id']}", json={"status": "in_review"}, headers=owner.headers)
        owner_p = Person(user_id=owner.id, email=owner.email)
        signer_p = Person(user_id=signer.id, email=signer.email)
        request_id = uuid.uuid4().hex
        requested = SignatureRequested(request_id=request_id, document_id=doc["id"], title="Контракт",
                                       owner=owner_p, signer=signer_p, message="Подпишите")
        await publish(requested, "routes")
        await publish(requested, "routes")  # a redelivery: still one item

        async def inbox_items() -> list[Any]:
            return list((await api.http.get("/inbox", headers=signer.headers)).json()["items"])

        async def one_item() -> bool:
            items = await inbox_items()
            return len(items) == 1 and items[0]["kind"] == "signature_request"

        await wait_until(one_item, what="the signature request in the inbox")
        assert (await inbox_items())[0]["request_id"] == request_id
        await publish(SignatureRequestCancelled(request_id=request_id, document_id=doc["id"], owner_id=owner.id,
                                                signer_ids=[signer.id]), "routes")

        async def no_items() -> bool:
            return await inbox_items() == []

        await wait_until(no_items, what="withdrawal of the cancelled request")

        now = datetime.now(UTC)
        await publish(DocumentSigned(document_id=doc["id"], file_id="f", signature_id=uuid.uuid4().hex,
                                     title="Контракт", signer=signer_p, owner=owner_p, signed_at=now), "signing")
        await publish(DocumentCompleted(document_id=doc["id"], request_id=request_id, title="Контракт",
                                        owner=owner_p, participants=[signer_p], completed_at=now), "routes")

        async def signed() -> bool:
            got = await api.http.get(f"/documents/{doc['id']}", headers=owner.headers)
            return bool(got.json()["status"] == "signed")

        await wait_until(signed, what="status signed")
        await events.wait_for("document.updated", lambda e: e.data["document_id"] == doc["id"]
                              and e.data["status"] == "signed")
        assert await api.db.signatures.find_one({"document_id": doc["id"]}) is not None
