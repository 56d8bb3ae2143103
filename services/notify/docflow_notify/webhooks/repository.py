"""The only code that touches ``webhooks``: the registered endpoints and their secrets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.mongo import Document, SetTime, utc_now
from docflow_shared.pagination import NEWEST_FIRST
from docflow_shared.repository import Collection

COLLECTION = "webhooks"
# the audience of an admin's webhook for every document
EVERYONE = "*"



class WebhookDocument(TypedDict, total=False):
    _id: str
    url: str
    event_types: list[str]
    scope: str  # ``own`` or ``all``
    audience: str  # the owner, or ``EVERYONE`` for an admin's webhook of every document
    owner_id: str
    active: bool  # ``$set`` (on deletion too): read with ``bool()``
    description: str
    secret: str
    previous_secret: str  # signs too until ``previous_secret_expires_at``
    previous_secret_expires_at: SetTime
    created_at: datetime
    updated_at: SetTime
    deleted_at: SetTime | None  # the soft-delete mark; only ever compared with null


class WebhookRepository(Collection[WebhookDocument]):
    """Webhooks are deleted softly (``deleted_at``): every read goes through ``live``."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db[COLLECTION])

    async def ensure_indexes(self) -> None:
        await self.collection.create_indexes([
            IndexModel([("owner_id", ASCENDING)], name="by_owner"),
            IndexModel([("audience", ASCENDING)], name="by_audience"),
        ])

    async def insert(self, doc: WebhookDocument) -> None:
        await self.typed.insert_one(doc)

    async def get(self, webhook_id: str) -> WebhookDocument | None:
        return await self.typed.find_one(self.live({"_id": webhook_id}))

    async def count_for(self, owner_id: str) -> int:
        return await self.collection.count_documents(self.live({"owner_id": owner_id}))

    async def page(self, *, owner_id: str | None, after: dict[str, Any], limit: int) -> list[WebhookDocument]:
        query = self.live(after)
        if owner_id is not None:
            query["owner_id"] = owner_id
        return await self.typed.find(query).sort(NEWEST_FIRST.sort).limit(limit).to_list()

    async def update(self, webhook_id: str, changes: Mapping[str, Any]) -> WebhookDocument | None:
        return await self.typed.find_one_and_update(
            self.live({"_id": webhook_id}), {"$set": {**changes, "updated_at": utc_now()}},
            return_document=ReturnDocument.AFTER)

    async def delete(self, webhook_id: str) -> bool:
        result = await self.collection.update_one(self.live({"_id": webhook_id}),
                                                  {"$set": {"deleted_at": utc_now(), "active": False}})
        return result.modified_count == 1

    async def listening(self, audiences: list[str]) -> list[WebhookDocument]:
        """Active webhooks of these audiences (an owner, ``EVERYONE``); the caller filters by type."""
        return await self.typed.find(self.live({"audience": {"$in": audiences}, "active": True})).to_list()
