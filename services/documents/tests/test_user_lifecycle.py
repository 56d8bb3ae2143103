"""The user projection and the erasure of a deleted user's data."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from docflow_dev.testing.events import EventTap
from docflow_shared.events.catalogue import UserDeleted, UserEmailVerified, UserRegistered, UserUpdated


class TestProjection:
    async def test_older_events_do_not_overwrite_newer_ones(self, api: Any, make_user: Any, wait_until: Any,
                                                           publisher: Any) -> None:
        from docflow_shared.events import new_event

        user = await make_user("Old Name")
        newer = new_event(UserUpdated(user_id=user.id, email=user.email, full_name="New Name"), producer="auth")
        older = new_event(UserUpdated(user_id=user.id, email=user.email, full_name="Stale Name"), producer="auth")
        older = older.model_copy(update={"occurred_at": newer.occurred_at - timedelta(minutes=5)})
        late = new_event(UserRegistered(user_id=user.id, email=user.email, full_name="Stale again"),
                         producer="auth")
        late = late.model_copy(update={"occurred_at": newer.occurred_at - timedelta(minutes=1)})
        await publisher.publish(newer)
        await publisher.publish(older)

        async def named(name: str) -> bool:
            doc = await api.db.users.find_one({"_id": user.id})
            return bool(doc and doc["full_name"] == name)

        def handled(event: Any) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                return await api.db.processed_events.find_one({"_id": f"documents:{event.id}"}) is not None

            return check

        await wait_until(lambda: named("New Name"), what="the newer name")
        await wait_until(handled(older), what="the older update handled")
        assert await named("New Name")
        # an older event arriving once the newer one is stored: handled, and it changes nothing
        await publisher.publish(late)
        await wait_until(handled(late), what="the late registration handled")
        assert await named("New Name")

    async def test_a_proven_address_receives_whatever_order_its_events_arrive_in(
            self, api: Any, make_user: Any, wait_until: Any, publisher: Any) -> None:
        from docflow_shared.events import new_event

        owner = await make_user()
        user_id, email = uuid.uuid4().hex, f"late-{uuid.uuid4().hex[:8]}@example.kz"
        first = await api.create_document(owner)
        waiting = (await api.shared(owner, first["id"], [_Address(email)]))["shares"][0]
        assert waiting["status"] == "pending"
        registered = new_event(UserRegistered(user_id=user_id, email=email, full_name="Late"), producer="auth")
        verified = new_event(UserEmailVerified(user_id=user_id, email=email), producer="auth")
        stale = new_event(UserUpdated(user_id=user_id, email=email, full_name="Late", email_verified=False),
                          producer="auth")
        stale = stale.model_copy(update={"occurred_at": verified.occurred_at - timedelta(seconds=1)})
        for event in (verified, stale, registered):  # the verification overtakes the rest
            await publisher.publish(event)

        async def granted() -> bool:
            return await api.db.shares.find_one({"_id": f"{first['id']}:{user_id}", "deleted_at": None}) is not None

        await wait_until(granted, what="the waiting share's delivery")
        assert await api.db.pending_shares.find_one({"document_id": first["id"]}) is None

        async def registered_too() -> bool:
            return await api.db.users.find_one({"_id": user_id, "full_name": "Late"}) is not None

        await wait_until(registered_too, what="the late registration")
        second = await api.create_document(owner)
        assert (await api.shared(owner, second["id"], [_Address(email)]))["shares"][0]["recipient_id"] == user_id

        moved = new_event(UserUpdated(user_id=user_id, email=email, full_name="Late", email_verified=False),
                          producer="auth")
        await publisher.publish(moved)

        async def unproven() -> bool:
            doc = await api.db.users.find_one({"_id": user_id})
            return bool(doc and doc.get("verified_email") is None)

        await wait_until(unproven, what="the address no longer proven")
        third = await api.create_document(owner)
        assert (await api.shared(owner, third["id"], [_Address(email)]))["shares"][0]["status"] == "pending"


class _Address:
    """A share recipient known only by address (``api.share`` reads ``.email``)."""

    def __init__(self, email: str) -> None:
        self.email = email


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
