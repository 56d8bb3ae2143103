"""Every query on ``shares`` (grants, with their events) and ``inbox`` (what recipients see)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from docflow_documents.paging import SORT, after_cursor
from docflow_shared.events import Event
from docflow_shared.outbox import Outbox

Doc = dict[str, Any]


def share_id(document_id: str, recipient_id: str) -> str:
    return f"{document_id}:{recipient_id}"


class ShareRepository:
    def __init__(self, db: AsyncDatabase[Doc], outbox: Outbox) -> None:
        self.shares = db["shares"]
        self.outbox = outbox

    async def create_indexes(self) -> None:
        await self.shares.create_index([("recipient_id", 1), ("created_us", -1)])
        await self.shares.create_index([("document_id", 1)])
        await self.shares.create_index([("owner_id", 1)])
        await self.shares.create_index([("outbox_pending", 1)])

    async def active(self, document_id: str, recipient_id: str) -> Doc | None:
        return await self.shares.find_one({"_id": share_id(document_id, recipient_id), "deleted_at": {"$eq": None}})

    async def any_state(self, document_id: str, recipient_id: str) -> Doc | None:
        return await self.shares.find_one({"_id": share_id(document_id, recipient_id)})

    async def insert(self, doc: Doc, events: Sequence[Event]) -> None:
        await self.outbox.insert(self.shares, doc, events)

    async def update(self, current: Mapping[str, Any], changes: Mapping[str, Any], events: Sequence[Event],
                     *, purge: bool = False, unset: Sequence[str] = ()) -> Doc:
        return await self.outbox.update(self.shares, current, changes, events, purge_when_published=purge,
                                        unset=unset)

    async def permissions_of(self, recipient_id: str, limit: int) -> dict[str, str]:
        docs = await self.shares.find(
            {"recipient_id": recipient_id, "deleted_at": {"$eq": None}}, {"document_id": 1, "permission": 1}
        ).sort("created_us", -1).limit(limit).to_list()
        return {d["document_id"]: d["permission"] for d in docs}

    async def of_document(self, document_id: str) -> list[Doc]:
        return await self.shares.find({"document_id": document_id, "deleted_at": {"$eq": None}}).to_list()

    async def delete_for_documents(self, document_ids: list[str]) -> None:
        if document_ids:
            await self.shares.delete_many({"document_id": {"$in": document_ids}})

    async def delete_involving(self, user_id: str) -> None:
        await self.shares.delete_many({"$or": [{"owner_id": user_id}, {"recipient_id": user_id}]})


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
        where: Doc = {"user_id": user_id, **after_cursor(cursor)}
        if archived is not None:
            where["archived"] = archived
        return await self.inbox.find(where).sort(SORT).limit(limit).to_list()

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
