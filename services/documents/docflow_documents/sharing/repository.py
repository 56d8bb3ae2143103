"""Every query on ``shares`` (grants, with their events) and ``inbox`` (what recipients see)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_documents.ids import LISTING_ORDER
from docflow_shared.outbox import Outbox, Whole, read_one
from docflow_shared.repository import Repository, SoftDeleted

Doc = dict[str, Any]


class ShareDocument(SoftDeleted, total=False):
    _id: str  # ``<document id>:<recipient id>``
    document_id: str
    owner_id: str
    recipient_id: str
    permission: str
    message: str
    grant_version: int  # grows with every share or revoke (docs/architecture.md)
    shared_at: datetime
    created_at: datetime
    created_us: int  # an ordering counter
    deleted_at: datetime | None


class PendingShareDocument(TypedDict):
    """A share to an address nobody has proven yet (``pending_shares``)."""

    _id: str  # ``<document id>:<address>``
    document_id: str
    owner_id: str
    email: str
    permission: str
    message: str
    created_at: datetime
    updated_us: int  # a version counter: a claim takes the share exactly as read


class InboxItemDocument(TypedDict, total=False):
    _id: str
    kind: str  # ``share`` or ``signature_request``
    user_id: str
    document_id: str
    request_id: str
    title: str
    sender_id: str
    sender_name: str
    sender_email: str
    permission: str
    message: str
    archived: bool
    created_at: datetime
    created_us: int
    sort_key: str


def share_id(document_id: str, recipient_id: str) -> str:
    return f"{document_id}:{recipient_id}"


def pending_id(document_id: str, email: str) -> str:
    return f"{document_id}:{email}"


class ShareRepository(Repository[ShareDocument]):
    """Grants to accounts in ``shares``; shares to addresses no account has proven yet wait in
    ``pending_shares`` until one does."""

    def __init__(self, db: AsyncDatabase[Doc], outbox: Outbox) -> None:
        super().__init__(db["shares"], outbox)
        self.shares = self.collection
        self.pending = db["pending_shares"]

    async def create_indexes(self) -> None:
        await self.shares.create_index([("recipient_id", 1), ("created_us", -1)])
        await self.shares.create_index([("document_id", 1)])
        await self.shares.create_index([("owner_id", 1)])
        await self.pending.create_index([("email", 1)])
        await self.pending.create_index([("document_id", 1)])
        await self.pending.create_index([("owner_id", 1)])

    async def active(self, document_id: str, recipient_id: str) -> Whole | None:
        return await self.get(share_id(document_id, recipient_id))

    async def any_state(self, document_id: str, recipient_id: str) -> Whole | None:
        return await read_one(self.shares, {"_id": share_id(document_id, recipient_id)})

    async def permissions_of(self, recipient_id: str, limit: int) -> dict[str, str]:
        docs = await self.shares.find(
            self.live({"recipient_id": recipient_id}), {"document_id": 1, "permission": 1}
        ).sort("created_us", -1).limit(limit).to_list()
        return {d["document_id"]: d["permission"] for d in docs}

    async def delete_for_documents(self, document_ids: list[str]) -> None:
        if document_ids:
            await self.shares.delete_many({"document_id": {"$in": document_ids}})
            await self.pending.delete_many({"document_id": {"$in": document_ids}})

    async def delete_involving(self, user_id: str) -> None:
        await self.shares.delete_many({"$or": [{"owner_id": user_id}, {"recipient_id": user_id}]})
        await self.pending.delete_many({"owner_id": user_id})

    # --- shares waiting for their address to be proven ------------------------------------------

    async def put_pending(self, doc: Doc) -> None:
        """Store a waiting share once; sharing again to the address updates what it grants."""
        changes = {"permission": doc["permission"], "message": doc["message"], "updated_us": doc["updated_us"]}
        fixed = {k: v for k, v in doc.items() if k not in changes}
        await self.pending.update_one({"_id": doc["_id"]}, {"$setOnInsert": fixed, "$set": changes}, upsert=True)

    async def pending_to(self, email: str) -> list[Doc]:
        return await self.pending.find({"email": email}).to_list()

    async def drop_pending(self, document_id: str, email: str) -> bool:
        deleted = await self.pending.delete_one({"_id": pending_id(document_id, email)})
        return bool(deleted.deleted_count)

    async def claim_pending(self, doc: Mapping[str, Any]) -> bool:
        """Take a waiting share for delivery, exactly as read: one taker wins, and a share revoked
        or changed since it was read is not delivered in its old form."""
        taken = await self.pending.delete_one({"_id": doc["_id"], "updated_us": doc["updated_us"]})
        return bool(taken.deleted_count)

    async def restore_pending(self, doc: Mapping[str, Any]) -> None:
        """Put back a share whose delivery failed, unless the owner has shared again meanwhile."""
        try:
            await self.pending.insert_one(dict(doc))
        except DuplicateKeyError:
            pass


class InboxRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.inbox = db["inbox"]

    async def create_indexes(self) -> None:
        await self.inbox.create_index([("user_id", 1), ("archived", 1), ("sort_key", -1)])
        await self.inbox.create_index([("document_id", 1)])
        await self.inbox.create_index([("request_id", 1)])

    async def put(self, item: Doc, *, refresh: Mapping[str, Any]) -> None:
        """Create the item once; a repeat only refreshes ``refresh`` (idempotent)."""
        fixed = {k: v for k, v in item.items() if k not in refresh}
        update: Doc = {"$setOnInsert": fixed}
        if refresh:
            update["$set"] = dict(refresh)
        await self.inbox.update_one({"_id": item["_id"]}, update, upsert=True)

    async def get_for(self, item_id: str, user_id: str) -> Doc | None:
        return await self.inbox.find_one({"_id": item_id, "user_id": user_id})

    async def set_archived(self, item_id: str, archived: bool) -> None:
        await self.inbox.update_one({"_id": item_id}, {"$set": {"archived": archived}})

    async def page(self, user_id: str, archived: bool | None, cursor: str | None, limit: int) -> list[Doc]:
        where: Doc = {"user_id": user_id, **LISTING_ORDER.after(cursor)}
        if archived is not None:
            where["archived"] = archived
        return await self.inbox.find(where).sort(LISTING_ORDER.sort).limit(limit).to_list()

    async def delete(self, item_id: str) -> None:
        await self.inbox.delete_one({"_id": item_id})

    async def delete_for_request(self, request_id: str, user_ids: list[str] | None = None) -> None:
        query: Doc = {"request_id": request_id}
        if user_ids:
            query["user_id"] = {"$in": user_ids}
        await self.inbox.delete_many(query)

    async def delete_for_documents(self, document_ids: list[str]) -> None:
        if document_ids:
            await self.inbox.delete_many({"document_id": {"$in": document_ids}})

    async def delete_for_user(self, user_id: str) -> None:
        await self.inbox.delete_many({"$or": [{"user_id": user_id}, {"sender_id": user_id}]})
