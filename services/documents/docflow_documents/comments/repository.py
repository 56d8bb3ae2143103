"""Every query on ``comments``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from pymongo.asynchronous.database import AsyncDatabase

from docflow_documents.ids import LISTING_ORDER
from docflow_shared.events import Event
from docflow_shared.outbox import REV, Outbox

Doc = dict[str, Any]


class CommentDocument(TypedDict, total=False):
    _id: str
    document_id: str
    author_id: str | None  # None once the author is erased
    author_name: str
    anonymised: bool
    body: str
    created_at: datetime
    created_us: int  # the ordering counter in ``sort_key``
    sort_key: str
    updated_at: datetime  # written by ``$set``: read back with ``stored_datetime``


class CommentRepository:
    def __init__(self, db: AsyncDatabase[Doc], outbox: Outbox) -> None:
        self.comments = db["comments"]
        self.outbox = outbox

    async def create_indexes(self) -> None:
        await self.comments.create_index([("document_id", 1), ("sort_key", -1)])
        await self.comments.create_index([("author_id", 1)])

    async def insert(self, doc: Doc, events: Sequence[Event]) -> None:
        await self.outbox.insert(self.comments, doc, events)

    async def get(self, document_id: str, comment_id: str) -> Doc | None:
        return await self.comments.find_one({"_id": comment_id, "document_id": document_id})

    async def update(self, comment_id: str, changes: Doc) -> None:
        # a comment carries an outbox: every write moves its revision (docs/architecture.md)
        await self.comments.update_one({"_id": comment_id}, {"$set": changes, "$inc": {REV: 1}})

    async def delete(self, comment_id: str) -> None:
        await self.comments.delete_one({"_id": comment_id})

    async def page(self, document_id: str, cursor: str | None, limit: int) -> list[Doc]:
        where = {"document_id": document_id, **LISTING_ORDER.after(cursor)}
        return await self.comments.find(where).sort(LISTING_ORDER.sort).limit(limit).to_list()

    async def delete_for_documents(self, document_ids: list[str]) -> None:
        if document_ids:
            await self.comments.delete_many({"document_id": {"$in": document_ids}})

    async def anonymise_author(self, author_id: str) -> None:
        await self.comments.update_many(
            {"author_id": author_id},
            {"$set": {"author_id": None, "author_name": "", "anonymised": True}, "$inc": {REV: 1}},
        )
