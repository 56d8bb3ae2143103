"""The evidence trail (the only code touching ``evidence_trail``): per document, the actions the
consumed events announce (docs/architecture.md, "Evidence")."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.mongo import Document

TRAIL = "evidence_trail"


class TrailEntry(TypedDict, total=False):
    _id: str  # the event's id: a redelivered event rewrites the same entry
    document_id: str
    type: str  # the event type (``document.updated``, ``route.approved``, ...)
    at: datetime
    actor_id: str | None
    details: dict[str, Any]
    ip: str
    user_agent: str
    request_id: str


class TrailRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[TRAIL]

    async def create_indexes(self) -> None:
        await self.collection.create_index([("document_id", ASCENDING), ("at", ASCENDING)])

    async def record(self, entry: TrailEntry) -> None:
        """Idempotent on the event id (a replacement by ``_id``)."""
        await self.collection.replace_one({"_id": entry["_id"]}, dict(entry), upsert=True)

    async def of_document(self, document_id: str, limit: int) -> list[Document]:
        return await self.collection.find({"document_id": document_id}).sort(
            [("at", ASCENDING), ("_id", ASCENDING)]).limit(limit).to_list()

    async def delete_document(self, document_id: str) -> None:
        await self.collection.delete_many({"document_id": document_id})
