"""Every query on the ``documents`` collection."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from docflow_documents.paging import SORT, after_cursor
from docflow_shared.events import Event
from docflow_shared.outbox import Outbox

Doc = dict[str, Any]


class DocumentRepository:
    def __init__(self, db: AsyncDatabase[Doc], outbox: Outbox) -> None:
        self.documents = db["documents"]
        self.outbox = outbox

    async def create_indexes(self) -> None:
        await self.documents.create_index([("owner_id", 1), ("sort_key", -1)])
        await self.documents.create_index([("outbox_pending", 1)])

    async def insert(self, doc: Doc, events: Sequence[Event]) -> None:
        await self.outbox.insert(self.documents, doc, events)

    async def update(self, current: Mapping[str, Any], changes: Mapping[str, Any], events: Sequence[Event] = (),
                     *, purge: bool = False) -> Doc:
        return await self.outbox.update(self.documents, current, changes, events, purge_when_published=purge)

    async def get(self, document_id: str) -> Doc | None:
        return await self.documents.find_one({"_id": document_id, "deleted_at": {"$eq": None}})

    async def page(
        self, *, owner_id: str | None = None, ids: list[str] | None = None, status: str | None,
        tag: str | None, query: str | None, cursor: str | None, limit: int,
    ) -> list[Doc]:
        """One page of the documents of ``owner_id``, or of ``ids``, matching the filters."""
        where: Doc = {"deleted_at": {"$eq": None}, **after_cursor(cursor)}
        if owner_id is not None:
            where["owner_id"] = owner_id
        if ids is not None:
            if not ids:
                return []
            where["_id"] = {"$in": ids}
        if status:
            where["status"] = status
        if tag:
            where["tags_text"] = {"$regex": re.escape(f"|{tag}|")}
        if query:
            where["search_text"] = {"$regex": re.escape(query)}
        projection = {"outbox": 0, "search_text": 0}
        return await self.documents.find(where, projection).sort(SORT).limit(limit).to_list()

    async def owned_ids(self, owner_id: str) -> list[str]:
        docs = await self.documents.find({"owner_id": owner_id, "deleted_at": {"$eq": None}}, {"_id": 1}).to_list()
        return [d["_id"] for d in docs]


class SignatureRecordRepository:
    """Signatures signing reported for documents (``document.signed``), one record per signature."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.signatures = db["signatures"]

    async def create_indexes(self) -> None:
        await self.signatures.create_index([("document_id", 1)])

    async def record(self, doc: Doc) -> None:
        await self.signatures.update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)

    async def delete_for_documents(self, document_ids: list[str]) -> None:
        if document_ids:
            await self.signatures.delete_many({"document_id": {"$in": document_ids}})
