"""The projection collections: users, documents, files and share grants, newer event wins."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.events import Person
from docflow_shared.mongo import Document, event_clock, update_first

USERS, DOCUMENTS, FILES, GRANTS = "users", "documents", "files", "grants"


class ProjectedUser(TypedDict, total=False):
    """What every service's projection of ``user.*`` events keeps of a user (documents' own
    directory too); a deleted one is a tombstone (``deleted: true``)."""

    _id: str
    email: str
    full_name: str
    locale: str
    deleted: bool
    event_us: int  # the profile's newer-wins clock (``event_clock``: a counter, not a time)
    address_us: int  # the proven address's own clock


class UserEntry(ProjectedUser, total=False):
    """A user of signing's and routes' projection, found by address key."""

    email_key: str
    verified_email_key: str | None


class DocumentEntry(TypedDict, total=False):
    _id: str
    owner_id: str
    title: str
    status: str
    deleted: bool
    event_us: int


class FileEntry(TypedDict, total=False):
    _id: str
    document_id: str
    owner_id: str
    name: str
    size: int
    sha256: str
    content_type: str
    removed: bool  # a tombstone: a late ``file_added`` must not bring it back


class GrantEntry(TypedDict, total=False):
    _id: str  # ``<document id>:<user id>``
    document_id: str
    user_id: str
    permission: str | None
    revoked: bool
    version: int  # the ``grant_version`` applied last


def event_us(at: datetime) -> int:
    """An event's newer-wins clock (a counter, not a time: ``docflow_shared.mongo.event_clock``)."""
    return event_clock(at)


class ProjectionRepository:
    """The only code touching the projection collections; a service extends it with its own."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.users = db[USERS]
        self.documents = db[DOCUMENTS]
        self.files = db[FILES]
        self.grants = db[GRANTS]

    async def create_indexes(self) -> None:
        await self.users.create_index([("email_key", ASCENDING)])
        await self.users.create_index([("verified_email_key", ASCENDING)])
        await self.files.create_index([("document_id", ASCENDING)])
        await self.grants.create_index([("document_id", ASCENDING)])
        await self.grants.create_index([("user_id", ASCENDING)])

    async def _upsert_newer(self, collection: Any, key: str, fields: dict[str, Any], at: datetime,
                            on_insert: dict[str, Any] | None = None) -> None:
        """Set ``fields`` unless the entry is a tombstone or already reflects a newer event.

        Events order by ``event_us``, their ``event_clock``: an integer counter, finer than a
        BSON date's milliseconds, and never written as a date by an update operator.
        """
        update: dict[str, Any] = {"$set": {**fields, "event_us": event_us(at)}}
        if on_insert:
            update["$setOnInsert"] = on_insert
        try:
            await collection.update_one(
                {"_id": key, "deleted": {"$ne": True}, "event_us": {"$lte": event_us(at)}}, update, upsert=True,
            )
        except DuplicateKeyError:
            pass  # newer state or a tombstone is stored: this event is stale

    # --- users ---------------------------------------------------------------------------------

    async def upsert_user(self, *, user_id: str, email: str, full_name: str, locale: str, at: datetime,
                          extra: Mapping[str, Any] | None = None) -> None:
        """The profile; ``extra``: the fields only this service keeps (signing: the IIN)."""
        await self._upsert_newer(self.users, user_id, {
            "email": email, "email_key": email_key(email), "full_name": full_name,
            "locale": locale, **(extra or {}), "deleted": False,
        }, at, on_insert={"address_us": 0, "verified_email_key": None})

    async def set_verified_address(self, user_id: str, email: str | None, at: datetime) -> None:
        """Record the address the user has proven (None: none now); newer wins on a clock of its
        own, ``address_us``, so profile events and verifications never hold each other back
        (docs/architecture.md, "Recipients")."""
        fields = {"verified_email_key": email_key(email) if email else None, "address_us": event_us(at)}
        newer = {"_id": user_id, "deleted": {"$ne": True}, "address_us": {"$lte": event_us(at)}}
        # entries stored before this clock existed lack it (``update_first``, not ``$or``)
        unclocked = {"_id": user_id, "deleted": {"$ne": True}, "address_us": {"$exists": False}}
        if await update_first(self.users, [newer, unclocked], {"$set": fields}):
            return
        try:
            # verified before its registration arrived: the profile fills in when it does
            await self.users.insert_one({"_id": user_id, "email": email or "", "email_key": "", "deleted": False,
                                         "event_us": 0, **fields})
        except DuplicateKeyError:
            await self.users.update_one(newer, {"$set": fields})

    async def proven_address(self, user_id: str) -> str | None:
        user = await self.user(user_id)
        return str(user["verified_email_key"]) if user and user.get("verified_email_key") else None

    async def delete_user(self, user_id: str, at: datetime) -> None:
        await self.users.replace_one(
            {"_id": user_id}, {"_id": user_id, "deleted": True, "event_us": event_us(at)}, upsert=True
        )
        await self.grants.delete_many({"user_id": user_id})

    async def user(self, user_id: str) -> Document | None:
        return await self.users.find_one({"_id": user_id, "deleted": {"$ne": True}})

    async def users_by_email(self, emails: list[str]) -> dict[str, Document]:
        """Address → the account that has proven it; an address only claimed maps to nobody. Of
        two accounts holding one address (a superseded proof not yet replaced), the later wins."""
        keys = [email_key(e) for e in emails]
        found = await self.users.find(
            {"verified_email_key": {"$in": keys}, "deleted": {"$ne": True}}
        ).sort("address_us", ASCENDING).to_list()
        return {u["verified_email_key"]: u for u in found}

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

    async def files_of(self, document_id: str) -> list[Document]:
        """The document's live files, oldest first (ids are time-ordered)."""
        return await self.files.find(
            {"document_id": document_id, "removed": {"$ne": True}}
        ).sort("_id", ASCENDING).to_list()

    async def users_by_id(self, user_ids: list[str]) -> dict[str, Document]:
        found = await self.users.find({"_id": {"$in": user_ids}, "deleted": {"$ne": True}}).to_list()
        return {str(u["_id"]): u for u in found}

    async def file_count(self, document_id: str) -> int:
        files = await self.files.find(
            {"document_id": document_id, "removed": {"$ne": True}}, {"_id": 1}
        ).to_list()
        return len(files)

    # --- share grants --------------------------------------------------------------------------

    async def grant(self, *, document_id: str, user_id: str, permission: str, version: int = 0) -> None:
        if await self.documents.find_one({"_id": document_id, "deleted": True}, {"_id": 1}):
            return
        await self._apply_grant(document_id, user_id, {"permission": permission, "revoked": False}, version)

    async def revoke(self, *, document_id: str, user_id: str, version: int = 0) -> None:
        """Keeps a tombstone with the version, so that an older share delivered later is ignored."""
        await self._apply_grant(document_id, user_id, {"permission": None, "revoked": True}, version)

    async def _apply_grant(self, document_id: str, user_id: str, state: dict[str, Any], version: int) -> None:
        """Share and revoke events arrive in any order: the newest ``grant_version`` wins
        (docs/architecture.md). Compare-and-set on the stored version; a newer write retries."""
        grant_id = f"{document_id}:{user_id}"
        fields = {"document_id": document_id, "user_id": user_id, "version": version, **state}
        while True:
            current = await self.grants.find_one({"_id": grant_id})
            if current is None:
                try:
                    await self.grants.insert_one({"_id": grant_id, **fields})
                    return
                except DuplicateKeyError:
                    continue
            held = int(current.get("version", 0))
            if version < held:
                return
            result = await self.grants.update_one(
                {"_id": grant_id, "version": current.get("version")}, {"$set": fields}
            )
            if result.matched_count:
                return

    async def permission(self, document_id: str, user_id: str) -> str | None:
        grant = await self.grants.find_one({"_id": f"{document_id}:{user_id}"})
        return str(grant["permission"]) if grant and grant.get("permission") else None


def email_key(email: str) -> str:
    return email.strip().lower()


def person_of(user: Document) -> Person:
    locale = user.get("locale") if user.get("locale") in ("ru", "en") else "ru"
    return Person(user_id=str(user["_id"]), email=str(user.get("email") or ""),
                  full_name=str(user.get("full_name") or ""), locale=locale)
