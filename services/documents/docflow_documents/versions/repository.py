"""Every query on ``versions``: immutable snapshots, one per change, keyed by document and number."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]


class VersionRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.versions = db["versions"]

    async def create_indexes(self) -> None:
        await self.versions.create_index([("document_id", 1), ("number", -1)])

    async def keep(self, version: Doc) -> None:
        """Store a snapshot once; a repeated write of the same number leaves the first one."""
        await self.versions.update_one({"_id": version["_id"]}, {"$setOnInsert": version}, upsert=True)

    async def page(self, document_id: str, before: int | None, limit: int) -> list[Doc]:
        query: Doc = {"document_id": document_id}
        if before is not None:
            query["number"] = {"$lt": before}
        return await self.versions.find(query).sort("number", -1).limit(limit).to_list()

    async def get(self, document_id: str, number: int) -> Doc | None:
        return await self.versions.find_one({"document_id": document_id, "number": number})

    async def delete_for_document(self, document_id: str) -> None:
        await self.versions.delete_many({"document_id": document_id})
