"""Every query on ``comments``."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from docflow_documents.paging import SORT, after_cursor

Doc = dict[str, Any]


class CommentRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.comments = db["comments"]

    async def create_indexes(self) -> None:
        await self.comments.create_index([("document_id", 1), ("sort_key", -1)])
        await self.comments.create_index([("author_id", 1)])

    async def insert(self, doc: Doc) -> None:
        await self.comments.insert_one(doc)

    async def get(self, document_id: str, comment_id: str) -> Doc | None:
        return await self.comments.find_one({"_id": comment_id, "document_id": document_id})

    async def update(self, comment_id: str, changes: Doc) -> None:
        await self.comments.update_one({"_id": comment_id}, {"$set": changes})

    async def delete(self, comment_id: str) -> None:
        await self.comments.delete_one({"_id": comment_id})

    async def page(self, document_id: str, cursor: str | None, limit: int) -> list[Doc]:
        where = {"document_id": document_id, **after_cursor(cursor)}
        return await self.comments.find(where).sort(SORT).limit(limit).to_list()

    async def delete_for_documents(self, document_ids: list[str]) -> None:
        if document_ids:
            await self.comments.delete_many({"document_id": {"$in": document_ids}})

    async def anonymise_author(self, author_id: str) -> None:
        await self.comments.update_many(
            {"author_id": author_id}, {"$set": {"author_id": None, "author_name": "", "anonymised": True}}
        )
