"""Every query on ``versions``: immutable snapshots, one per change, keyed by document and number."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.pagination import Keyset

Doc = dict[str, Any]


class VersionDocument(TypedDict):
    """An immutable snapshot of a document's versioned fields."""

    _id: str  # ``<document id>:<number>``
    document_id: str
    number: int
    title: str
    description: str
    content: str
    sha256: str
    created_at: datetime
    replaced_at: datetime
    replaced_by: str
NEWEST_VERSION_FIRST = Keyset("number", unique=True)  # numbers are unique within a document


class VersionRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.versions = db["versions"]

    async def create_indexes(self) -> None:
        await self.versions.create_index([("document_id", 1), ("number", -1)])

    async def keep(self, version: Doc) -> None:
        """Store a snapshot once; a repeated write of the same number leaves the first one."""
        await self.versions.update_one({"_id": version["_id"]}, {"$setOnInsert": version}, upsert=True)

    async def page(self, document_id: str, cursor: str | None, limit: int) -> list[Doc]:
        query: Doc = {"document_id": document_id, **NEWEST_VERSION_FIRST.after(cursor)}
        return await self.versions.find(query).sort(NEWEST_VERSION_FIRST.sort).limit(limit).to_list()

    async def get(self, document_id: str, number: int) -> Doc | None:
        return await self.versions.find_one({"document_id": document_id, "number": number})

    async def delete_for_document(self, document_id: str) -> None:
        await self.versions.delete_many({"document_id": document_id})
