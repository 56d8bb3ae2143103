"""The user projection and the erasure of a deleted user's data."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from docflow_shared.events.catalogue import UserDeleted, UserRegistered, UserUpdated
from docflow_shared.testing.events import EventTap


class TestProjection:
    async def test_older_events_do_not_overwrite_newer_ones(self, api: Any, make_user: Any, publish: Any,
                                                           wait_until: Any, publisher: Any) -> None:
        from docflow_shared.events import new_event

        user = await make_user("Old Name")
        newer = new_event(UserUpdated(user_id=user.id, email=user.email, full_name="New Name"), producer="auth")
        older = new_event(UserUpdated(user_id=user.id, email=user.email, full_name="Stale Name"), producer="auth")
        older = older.model_copy(update={"occurred_at": newer.occurred_at - timedelta(minutes=5)})
        await publisher.publish(newer)
        await publisher.publish(older)

        async def settled() -> bool:
            doc = await api.db.users.find_one({"_id": user.id})
            return bool(doc and doc["full_name"] == "New Name")

        await wait_until(settled, what="the newer name")
        await publish(UserRegistered(user_id=user.id, email=user.email, full_name="Stale again"))
        await publish(UserUpdated(user_id=user.id, email=user.email, full_name="Newest"))

        async def newest() -> bool:
            doc = await api.db.users.find_one({"_id": user.id})
            return bool(doc and doc["full_name"] == "Newest")

        await wait_until(newest, what="the newest name")


class TestUserDeleted:
    async def test_cascade(self, api: Any, make_user: Any, publish: Any, wait_until: Any, events: EventTap,
                           publisher: Any) -> None:
        victim, other = await make_user("Victim"), await make_user("Other")
        own = await api.create_document(victim, title="Victim's")
        await api.http.patch(f"/documents/{own['id']}", json={"content": "v2"}, headers=victim.headers)
        own_file = await api.uploaded(victim, own["id"], os.urandom(5000))
        await api.shared(victim, own["id"], [other], "comment")
        await api.http.post(f"/documents/{own['id']}/comments", json={"body": "other's note"}, headers=other.headers)
        theirs = await api.create_document(other, title="Other's")
        await api.shared(other, theirs["id"], [victim], "comment")
        remark = (await api.http.post(f"/documents/{theirs['id']}/comments", json={"body": "Согласен"},
                                      headers=victim.headers)).json()
        await api.http.post("/contacts", json={"email": other.email}, headers=victim.headers)
        await api.http.post("/contacts", json={"email": victim.email}, headers=other.headers)

        from docflow_shared.events import new_event

        deleted = new_event(UserDeleted(user_id=victim.id, deleted_at=datetime.now(UTC)), producer="auth")
        await publisher.publish(deleted)

        async def erased() -> bool:
            db = api.db
            return (
                await db.documents.find_one({"owner_id": victim.id}) is None
                and await db.files.find_one({"document_id": own["id"]}) is None
                and own_file["id"] not in await api.gridfs_ids()
                and await db.shares.find_one({"document_id": own["id"]}) is None
                and await db.shares.find_one({"recipient_id": victim.id}) is None
                and await db.inbox.find_one({"user_id": victim.id}) is None
                and await db.inbox.find_one({"document_id": own["id"]}) is None
                and await db.contacts.find_one({"owner_id": victim.id}) is None
                and await db.contacts.find_one({"contact_user_id": victim.id}) is None
                and await db.versions.find_one({"document_id": own["id"]}) is None
                and await db.comments.find_one({"document_id": own["id"]}) is None
            )

        await wait_until(erased, timeout=30, what="erasure of the deleted user's data")
        await events.wait_for("document.deleted", lambda e: e.data["document_id"] == own["id"])
        await events.wait_for("document.file_removed", lambda e: e.data["file_id"] == own_file["id"])
        comments = (await api.http.get(f"/documents/{theirs['id']}/comments", headers=other.headers)).json()
        kept = [c for c in comments["items"] if c["id"] == remark["id"]]
        assert kept and kept[0]["body"] == "Согласен" and kept[0]["author_id"] is None
        assert kept[0]["author_name"] == ""
        assert (await api.http.get("/contacts", headers=other.headers)).json()["items"] == []
        assert (await api.http.get(f"/documents/{theirs['id']}", headers=other.headers)).status_code == 200

        # a redelivery and a second deletion change nothing and break nothing
        await publisher.publish(deleted)
        await publish(UserDeleted(user_id=victim.id, deleted_at=datetime.now(UTC)))
        # a late update does not bring the user back
        await publish(UserUpdated(user_id=victim.id, email=victim.email, full_name="Zombie"))
        await asyncio.sleep(1.5)
        response = await api.http.post("/contacts", json={"email": victim.email}, headers=other.headers)

        async def still_gone() -> bool:
            doc = await api.db.users.find_one({"_id": victim.id})
            return bool(doc and doc.get("deleted"))

        await wait_until(still_gone, what="the tombstone")
        assert response.status_code == 422
        assert (await api.http.get(f"/documents/{theirs['id']}", headers=other.headers)).status_code == 200
