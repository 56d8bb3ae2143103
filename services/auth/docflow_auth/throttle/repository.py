"""The rate_limits collection: fixed-window counters, expired by a TTL index."""

from __future__ import annotations

from datetime import datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from docflow_shared.mongo import Document


class RateLimitRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("expires_at", expireAfterSeconds=0, name="expires_at_ttl")

    async def hit(self, key: str, expires_at: datetime) -> int:
        """Count one more hit in the window ``key``; returns the count so far."""
        doc = await self.collection.find_one_and_update(
            {"_id": key}, {"$inc": {"count": 1}, "$set": {"expires_at": expires_at}},
            upsert=True, return_document=ReturnDocument.AFTER,
        )
        return int(doc["count"]) if doc else 1
