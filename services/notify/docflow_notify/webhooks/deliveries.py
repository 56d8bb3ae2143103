"""The only code that touches ``webhook_deliveries``: the delivery log, one per (event, webhook)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_notify.webhooks.schemas import OPEN_STATUSES, DeliveryStatus
from docflow_shared.mongo import Document
from docflow_shared.pagination import NEWEST_FIRST

COLLECTION = "webhook_deliveries"
OPEN = [status.value for status in OPEN_STATUSES]


def epoch() -> float:
    """Scheduling times are epoch seconds: numbers compare the same on every MongoDB-compatible server."""
    return time.time()


class DeliveryRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self.collection.create_indexes([
            IndexModel([("event_id", ASCENDING), ("webhook_id", ASCENDING)], unique=True,
                       name="one_delivery_per_event_and_webhook"),
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
            IndexModel([("webhook_id", ASCENDING)], name="by_webhook"),
        ])

    async def insert(self, doc: Mapping[str, Any]) -> bool:
        """False when this event already has a delivery to this webhook (a redelivered event)."""
        try:
            await self.collection.insert_one(dict(doc))
        except DuplicateKeyError:
            return False
        return True

    async def get(self, delivery_id: str) -> Document | None:
        return await self.collection.find_one({"_id": delivery_id})

    async def claim(self, delivery_id: str, *, claim_seconds: float) -> Document | None:
        """Take a due delivery for one attempt; None when it is not due or another sender has it."""
        at = epoch()
        return await self.collection.find_one_and_update(
            {"_id": delivery_id, "status": {"$in": OPEN}, "next_attempt_at": {"$lte": at}},
            {"$set": {"status": DeliveryStatus.SENDING.value, "next_attempt_at": at + claim_seconds,
                      "updated_at": datetime.now(UTC)},
             "$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER)

    async def record(self, claimed: Mapping[str, Any], changes: Mapping[str, Any]) -> bool:
        """Store an attempt's outcome, unless another sender took the delivery since."""
        result = await self.collection.update_one(
            {"_id": claimed["_id"], "status": DeliveryStatus.SENDING.value, "attempts": claimed["attempts"]},
            {"$set": {**changes, "updated_at": datetime.now(UTC)}})
        return result.modified_count == 1

    async def reopen(self, delivery_id: str, *, give_up_at: float) -> Document | None:
        """Due again now, with a fresh 24 h, unless it is being sent at this moment."""
        return await self.collection.find_one_and_update(
            {"_id": delivery_id, "status": {"$ne": DeliveryStatus.SENDING.value}},
            {"$set": {"status": DeliveryStatus.PENDING.value, "next_attempt_at": epoch(), "give_up_at": give_up_at,
                      "updated_at": datetime.now(UTC)}},
            return_document=ReturnDocument.AFTER)

    async def due_ids(self, *, limit: int) -> list[str]:
        docs = await self.collection.find({"status": {"$in": OPEN}, "next_attempt_at": {"$lte": epoch()}},
                                          {"_id": 1}).sort("next_attempt_at", ASCENDING).limit(limit).to_list()
        return [str(doc["_id"]) for doc in docs]

    async def page(self, *, webhook_id: str, after: dict[str, Any], limit: int) -> list[Document]:
        return await self.collection.find({"webhook_id": webhook_id, **after}, {"body": 0}).sort(
            NEWEST_FIRST.sort).limit(limit).to_list()
