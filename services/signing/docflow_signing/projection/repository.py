"""The signing service's projection of users, documents, files and share grants (from events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.events import Person
from docflow_shared.mongo import Document

USERS, DOCUMENTS, FILES, GRANTS = "users", "documents", "files", "grants"



def event_us(at: datetime) -> int:
    """An event's time as integer microseconds since the epoch."""
    return int(at.timestamp() * 1_000_000)

class ProjectionRepository:
    """The only code touching the projection collections."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.users = db[USERS]
        self.documents = db[DOCUMENTS]
        self.files = db[FILES]
        self.grants = db[GRANTS]

    async def create_indexes(self) -> None:
        await self.users.create_index([("email_key", ASCENDING)])
        await self.files.create_index([("document_id", ASCENDING)])
        await self.grants.create_index([("document_id", ASCENDING)])
        await self.grants.create_index([("user_id", ASCENDING)])

    async def _upsert_newer(self, collection: Any, key: str, fields: dict[str, Any], at: datetime) -> None:
        """Set ``fields`` unless the entry is a tombstone or already reflects a newer event.

        Event times are compared as integer microseconds: numbers order the same on every
        MongoDB-compatible server, dates written by an update do not on the embedded one.
        """
        try:
            await collection.update_one(
                {"_id": key, "deleted": {"$ne": True}, "event_us": {"$lte": event_us(at)}},
                {"$set": {**fields, "event_us": event_us(at)}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # newer state or a tombstone is stored: this event is stale

    # --- users ---------------------------------------------------------------------------------

    async def upsert_user(self, *, user_id: str, email: str, full_name: str, locale: str,
                          iin: str | None, at: datetime) -> None:
        await self._upsert_newer(self.users, user_id, {
            "email": email, "email_key": email.strip().lower(), "full_name": full_name,
            "locale": locale, "iin": iin, "deleted": False,
        }, at)

    async def delete_user(self, user_id: str, at: datetime) -> None:
        await self.users.replace_one(
            {"_id": user_id}, {"_id": user_id, "deleted": True, "event_us": event_us(at)}, upsert=True
        )
        await self.grants.delete_many({"user_id": user_id})

    async def user(self, user_id: str) -> Document | None:
        return await self.users.find_one({"_id": user_id, "deleted": {"$ne": True}})

    async def users_by_email(self, emails: list[str]) -> dict[str, Document]:
        keys = [e.strip().lower() for e in emails]
        found = await self.users.find({"email_key": {"$in": keys}, "deleted": {"$ne": True}}).to_list()
        return {u["email_key"]: u for u in found}

    async def person(self, user_id: str) -> Person:
        """The user as events describe people (mail needs the address, name and locale)."""
        user = await self.user(user_id)
        if user is None:
            return Person(user_id=user_id, email="")
        return person_of(user)

    # --- documents and files -------------------------------------------------------------------

    async def upsert_document(self, *, document_id: str, owner_id: str, title: str, status: str,
                              at: datetime) -> None:
        await self._upsert_newer(self.documents, document_id, {
            "owner_id": owner_id, "title": title, "status": status, "deleted": False,
        }, at)

    async def delete_document(self, document_id: str, owner_id: str, at: datetime) -> None:
        await self.documents.replace_one(
            {"_id": document_id},
            {"_id": document_id, "owner_id": owner_id, "deleted": True, "event_us": event_us(at)},
            upsert=True,
        )
        await self.files.delete_many({"document_id": document_id})
        await self.grants.delete_many({"document_id": document_id})

    async def document(self, document_id: str) -> Document | None:
        return await self.documents.find_one({"_id": document_id, "deleted": {"$ne": True}})

    async def add_file(self, *, file_id: str, document_id: str, owner_id: str, name: str, size: int,
                       sha256: str, content_type: str) -> None:
        if await self.documents.find_one({"_id": document_id, "deleted": True}, {"_id": 1}):
            return
        try:
            await self.files.update_one(
                {"_id": file_id, "removed": {"$ne": True}},
                {"$set": {"document_id": document_id, "owner_id": owner_id, "name": name, "size": size,
                          "sha256": sha256.lower(), "content_type": content_type, "removed": False}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # removed already: a late file_added must not bring it back

    async def remove_file(self, file_id: str, document_id: str) -> None:
        await self.files.replace_one(
            {"_id": file_id}, {"_id": file_id, "document_id": document_id, "removed": True}, upsert=True
        )

    async def file(self, document_id: str, file_id: str) -> Document | None:
        return await self.files.find_one({"_id": file_id, "document_id": document_id, "removed": {"$ne": True}})

    async def file_count(self, document_id: str) -> int:
        files = await self.files.find(
            {"document_id": document_id, "removed": {"$ne": True}}, {"_id": 1}
        ).to_list()
        return len(files)

    # --- share grants --------------------------------------------------------------------------

    async def grant(self, *, document_id: str, user_id: str, permission: str) -> None:
        if await self.documents.find_one({"_id": document_id, "deleted": True}, {"_id": 1}):
            return
        await self.grants.update_one(
            {"_id": f"{document_id}:{user_id}"},
            {"$set": {"document_id": document_id, "user_id": user_id, "permission": permission}},
            upsert=True,
        )

    async def revoke(self, *, document_id: str, user_id: str) -> None:
        await self.grants.delete_one({"_id": f"{document_id}:{user_id}"})

    async def permission(self, document_id: str, user_id: str) -> str | None:
        grant = await self.grants.find_one({"_id": f"{document_id}:{user_id}"})
        return str(grant["permission"]) if grant else None


def person_of(user: Document) -> Person:
    locale = user.get("locale") if user.get("locale") in ("ru", "en") else "ru"
    return Person(user_id=str(user["_id"]), email=str(user.get("email") or ""),
                  full_name=str(user.get("full_name") or ""), locale=locale)
