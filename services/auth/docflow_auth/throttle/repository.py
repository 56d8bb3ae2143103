"""The rate_limits collection: fixed-window counters, expired by a TTL index."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from pymongo.asynchronous.collection import AsyncCollection

from docflow_shared.mongo import Document, count_in_window


class RateLimitDocument(TypedDict):
    _id: str  # the window's key
    count: int
    expires_at: datetime  # a TTL date: written by the insert only (``count_in_window``)


class RateLimitRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("expires_at", expireAfterSeconds=0, name="expires_at_ttl")

    async def hit(self, key: str, expires_at: datetime) -> int:
        """Count one more hit in the window ``key``; returns the count so far."""
        return await count_in_window(self.collection, key, expires_at)
