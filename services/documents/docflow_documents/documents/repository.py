"""Every query on the ``documents`` collection."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, TypedDict

from pymongo.asynchronous.database import AsyncDatabase

from docflow_documents.ids import LISTING_ORDER
from docflow_shared.outbox import Outbox
from docflow_shared.repository import Repository, SoftDeleted

Doc = dict[str, Any]


class DocumentDocument(SoftDeleted, total=False):
    _id: str
    owner_id: str
    title: str
    description: str
    content: str
    status: str  # a DocumentStatus
    tags: list[str]
    tags_text: str  # ``|tag|tag|``, matched by a regex
    search_text: str
    version: int
    created_at: datetime
    created_us: int  # the ordering counter in ``sort_key``
    sort_key: str
    updated_at: datetime


class SignatureRecordDocument(TypedDict):
    _id: str
    document_id: str
    file_id: str
    signer_id: str
    request_id: str | None
    signed_at: datetime
    recorded_at: datetime


class SignatureRequestDocument(TypedDict):
    _id: str
    document_id: str
    closed: bool  # a closed request stays as a tombstone


class DocumentRepository(Repository[DocumentDocument]):
    def __init__(self, db: AsyncDatabase[Doc], outbox: Outbox) -> None:
        super().__init__(db["documents"], outbox)
        self.documents = self.collection

    async def create_indexes(self) -> None:
        await self.documents.create_index([("owner_id", 1), ("sort_key", -1)])

    async def page(
        self, *, owner_id: str | None = None, ids: list[str] | None = None, status: str | None,
        tag: str | None, query: str | None, cursor: str | None, limit: int,
    ) -> list[Doc]:
        """One page of the documents of ``owner_id``, or of ``ids``, matching the filters."""
        where: Doc = self.live(LISTING_ORDER.after(cursor))
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
        return await self.documents.find(where, projection).sort(LISTING_ORDER.sort).limit(limit).to_list()

    async def owned_ids(self, owner_id: str) -> list[str]:
        docs = await self.documents.find(self.live({"owner_id": owner_id}), {"_id": 1}).to_list()
        return [d["_id"] for d in docs]


class SignatureRecordRepository:
    """Signatures signing reported for documents (``document.signed``), one record per signature."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.signatures = db["signatures"]
        self.requests = db["signature_requests"]

    async def create_indexes(self) -> None:
        await self.signatures.create_index([("document_id", 1)])
        await self.signatures.create_index([("file_id", 1)])
        await self.requests.create_index([("document_id", 1), ("closed", 1)])

    async def record(self, doc: Doc) -> None:
        await self.signatures.update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)

    async def file_signed(self, file_id: str) -> bool:
        return await self.signatures.find_one({"file_id": file_id}, {"_id": 1}) is not None

    # signature requests as signing reports them; a closed request stays as a tombstone, so an
    # opening delivered after the closing cannot reopen it
    async def request_opened(self, request_id: str, document_id: str) -> None:
        await self.requests.update_one(
            {"_id": request_id}, {"$setOnInsert": {"document_id": document_id, "closed": False}}, upsert=True
        )

    async def request_closed(self, request_id: str, document_id: str) -> None:
        await self.requests.update_one(
            {"_id": request_id}, {"$set": {"document_id": document_id, "closed": True}}, upsert=True
        )

    async def has_open_request(self, document_id: str) -> bool:
        return await self.requests.find_one({"document_id": document_id, "closed": False}, {"_id": 1}) is not None

    async def delete_for_documents(self, document_ids: list[str]) -> None:
        if document_ids:
            await self.signatures.delete_many({"document_id": {"$in": document_ids}})
            await self.requests.delete_many({"document_id": {"$in": document_ids}})
