"""The only code that touches ``webhooks``: the registered endpoints and their secrets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.mongo import NOT_DELETED, Document
from docflow_shared.pagination import NEWEST_FIRST

COLLECTION = "webhooks"
# the audience of an admin's webhook for every document
EVERYONE = "*"


def now() -> datetime:
    return datetime.now(UTC)


class WebhookRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self.collection.create_indexes([
            IndexModel([("owner_id", ASCENDING)], name="by_owner"),
            IndexModel([("audience", ASCENDING)], name="by_audience"),
        ])

    async def insert(self, doc: Mapping[str, Any]) -> None:
        await self.collection.insert_one(dict(doc))

    async def get(self, webhook_id: str) -> Document | None:
        return await self.collection.find_one({"_id": webhook_id, **NOT_DELETED})

    async def count_for(self, owner_id: str) -> int:
        return await self.collection.count_documents({"owner_id": owner_id, **NOT_DELETED})

    async def page(self, *, owner_id: str | None, after: dict[str, Any], limit: int) -> list[Document]:
        query: dict[str, Any] = {**NOT_DELETED, **after}
        if owner_id is not None:
            query["owner_id"] = owner_id
        return await self.collection.find(query).sort(NEWEST_FIRST.sort).limit(limit).to_list()

    async def update(self, webhook_id: str, changes: Mapping[str, Any]) -> Document | None:
        return await self.collection.find_one_and_update(
            {"_id": webhook_id, **NOT_DELETED}, {"$set": {**changes, "updated_at": now()}},
            return_document=ReturnDocument.AFTER)

    async def delete(self, webhook_id: str) -> bool:
        result = await self.collection.update_one({"_id": webhook_id, **NOT_DELETED},
                                                  {"$set": {"deleted_at": now(), "active": False}})
        return result.modified_count == 1

    async def listening(self, audiences: list[str]) -> list[Document]:
        """Active webhooks of these audiences (an owner, ``EVERYONE``); the caller filters by type."""
        return await self.collection.find({"audience": {"$in": audiences}, "active": True, **NOT_DELETED}).to_list()
