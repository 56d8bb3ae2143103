"""Every query on ``files``: one record per stored file, with its events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from docflow_documents.paging import SORT, after_cursor
from docflow_shared.events import Event
from docflow_shared.outbox import Outbox

Doc = dict[str, Any]
PUBLIC = {"outbox": 0}


class FileRepository:
    def __init__(self, db: AsyncDatabase[Doc], outbox: Outbox) -> None:
        self.files = db["files"]
        self.outbox = outbox

    async def create_indexes(self) -> None:
        await self.files.create_index([("document_id", 1), ("sort_key", -1)])
        await self.files.create_index([("owner_id", 1), ("sha256", 1)])
        await self.files.create_index([("outbox_pending", 1)])

    async def insert(self, doc: Doc, events: Sequence[Event]) -> None:
        await self.outbox.insert(self.files, doc, events)

    async def update(self, current: Mapping[str, Any], changes: Mapping[str, Any], events: Sequence[Event] = (),
                     *, purge: bool = False) -> Doc:
        return await self.outbox.update(self.files, current, changes, events, purge_when_published=purge)

    async def get(self, document_id: str, file_id: str) -> Doc | None:
        return await self.files.find_one({"_id": file_id, "document_id": document_id, "deleted_at": {"$eq": None}})

    async def recorded(self, file_id: str) -> bool:
        """Whether a file record exists, deleted or not."""
        return await self.files.find_one({"_id": file_id}, {"_id": 1}) is not None

    async def page(self, document_id: str, cursor: str | None, limit: int) -> list[Doc]:
        where = {"document_id": document_id, "deleted_at": {"$eq": None}, **after_cursor(cursor)}
        return await self.files.find(where, PUBLIC).sort(SORT).limit(limit).to_list()

    async def same_content(self, owner_id: str, sha256: str, exclude_id: str, limit: int = 20) -> list[Doc]:
        return await self.files.find(
            {"owner_id": owner_id, "sha256": sha256, "deleted_at": {"$eq": None}, "_id": {"$ne": exclude_id}}, PUBLIC
        ).sort(SORT).limit(limit).to_list()

    async def live_of_document(self, document_id: str) -> list[Doc]:
        return await self.files.find({"document_id": document_id, "deleted_at": {"$eq": None}}).to_list()
