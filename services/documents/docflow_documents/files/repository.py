"""Every query on ``files``: one record per stored file, with its events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from pymongo.asynchronous.database import AsyncDatabase

from docflow_documents.ids import LISTING_ORDER
from docflow_shared.outbox import Outbox, Whole
from docflow_shared.repository import Repository, SoftDeleted

Doc = dict[str, Any]
PUBLIC = {"outbox": 0}


class FileDocument(SoftDeleted, total=False):
    _id: str
    document_id: str
    owner_id: str
    uploaded_by: str
    name: str
    size: int
    sha256: str
    content_type: str
    encryption: dict[str, Any]  # the wrapped data key (``FileKey.to_document``)
    created_at: datetime
    created_us: int  # the ordering counter in ``sort_key``
    sort_key: str
    updated_at: datetime


class UploadDocument(TypedDict):
    """An upload under way (``uploads``), until its file record is stored."""

    _id: str
    touched_at: datetime  # a date queries compare: written by insert and replacement only


class FileRepository(Repository[FileDocument]):
    def __init__(self, db: AsyncDatabase[Doc], outbox: Outbox) -> None:
        super().__init__(db["files"], outbox)
        self.files = self.collection

    async def create_indexes(self) -> None:
        await self.files.create_index([("document_id", 1), ("sort_key", -1)])
        await self.files.create_index([("owner_id", 1), ("sha256", 1)])

    async def in_document(self, document_id: str, file_id: str) -> Whole | None:
        return await self.read_live({"_id": file_id, "document_id": document_id})

    async def recorded(self, file_id: str) -> bool:
        """Whether a file record exists, deleted or not."""
        return await self.files.find_one({"_id": file_id}, {"_id": 1}) is not None

    async def page(self, document_id: str, cursor: str | None, limit: int) -> list[Doc]:
        where = self.live({"document_id": document_id, **LISTING_ORDER.after(cursor)})
        return await self.files.find(where, PUBLIC).sort(LISTING_ORDER.sort).limit(limit).to_list()

    async def same_content(self, owner_id: str, sha256: str, exclude_id: str, limit: int = 20) -> list[Doc]:
        return await self.files.find(
            self.live({"owner_id": owner_id, "sha256": sha256, "_id": {"$ne": exclude_id}}), PUBLIC
        ).sort(LISTING_ORDER.sort).limit(limit).to_list()

    async def live_of_document(self, document_id: str) -> list[Whole]:
        return await self.find_live({"document_id": document_id})
