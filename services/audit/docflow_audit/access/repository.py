"""Every query on audit's projection: ``documents`` (owner) and ``participants`` (who else may
read a trail, and through what: a share, a signature request, a route)."""

from __future__ import annotations

from typing import Final, TypedDict

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.mongo import Document
from docflow_shared.repository import Collection

DOCUMENTS, PARTICIPANTS = "documents", "participants"
# the ways into a trail, each a flag of ``ParticipantDocument``
SHARE: Final = "share"
SIGNER: Final = "signer"
ROUTE: Final = "route"


class OwnerDocument(TypedDict, total=False):
    """A document's owner (``documents``), written by upsert from any event naming it."""

    _id: str  # the document's id
    owner_id: str


class ParticipantDocument(TypedDict, total=False):
    """One user's ways into one document's trail (``participants``). The flags are ``$set``:
    the embedded server reads them back as integers, so they are read with ``bool()``
    (``docflow_shared.mongo``)."""

    _id: str  # ``<document id>:<user id>``
    document_id: str
    user_id: str
    share: bool  # a live share (the newest ``share_version`` wins)
    share_version: int
    signer: bool  # a signer of a signature request
    route: bool  # a participant of a route


class AccessRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.documents = Collection[OwnerDocument](db[DOCUMENTS]).typed
        self.participants = Collection[ParticipantDocument](db[PARTICIPANTS]).typed

    async def create_indexes(self) -> None:
        await self.participants.create_index([("document_id", ASCENDING)])

    async def set_owner(self, document_id: str, owner_id: str) -> None:
        """A document's owner never changes: any event naming it may create the entry."""
        await self.documents.update_one({"_id": document_id}, {"$set": {"owner_id": owner_id}}, upsert=True)

    async def owner_of(self, document_id: str) -> str | None:
        found = await self.documents.find_one({"_id": document_id})
        return str(found["owner_id"]) if found and found.get("owner_id") else None

    async def join(self, document_id: str, user_id: str, through: str) -> None:
        """``user_id`` takes part in the document through ``through`` (signer, route): for good,
        as the trail shows what they did."""
        await self.participants.update_one(
            {"_id": f"{document_id}:{user_id}"},
            {"$set": {"document_id": document_id, "user_id": user_id, through: True}}, upsert=True,
        )

    async def set_share(self, document_id: str, user_id: str, active: bool, version: int) -> None:
        """A share granted or revoked; the newest ``grant_version`` wins, as events arrive in any
        order (docs/architecture.md, "Catalogue additions")."""
        key = f"{document_id}:{user_id}"
        while True:
            current = await self.participants.find_one({"_id": key})
            if current is None:
                try:
                    await self.participants.insert_one({"_id": key, "document_id": document_id, "user_id": user_id,
                                                        SHARE: active, "share_version": version})
                    return
                except DuplicateKeyError:
                    continue
            held = current.get("share_version")
            if version < int(held or 0):
                return
            changed = await self.participants.update_one(
                {"_id": key, "share_version": held}, {"$set": {SHARE: active, "share_version": version}}
            )
            if changed.matched_count:
                return

    async def participation(self, document_id: str, user_id: str) -> ParticipantDocument | None:
        return await self.participants.find_one({"_id": f"{document_id}:{user_id}"})
