"""Comments: the owner and recipients allowed to comment add and list; authors edit their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from docflow_documents.comments.repository import CommentRepository
from docflow_documents.comments.schemas import CommentCreate, CommentRead, CommentUpdate
from docflow_documents.documents.access import AccessPolicy
from docflow_documents.ids import ID_LENGTH, LISTING_ORDER, checked_id, sort_key, stamp
from docflow_documents.users.service import UserDirectory
from docflow_shared.errors import Forbidden, NotFound
from docflow_shared.events import Client, Event, EventPayload
from docflow_shared.events.catalogue import DocumentCommented
from docflow_shared.ids import new_id
from docflow_shared.pagination import Page


class CommentService:
    def __init__(self, comments: CommentRepository, access: AccessPolicy, users: UserDirectory,
                 event: Callable[[EventPayload], Event]) -> None:
        self.comments = comments
        self.access = access
        self.users = users
        self.event = event

    async def list(self, *, user_id: str, document_id: str, cursor: str | None, limit: int) -> Page[CommentRead]:
        access = await self.access.resolve(document_id, user_id)
        access.require_comment()
        docs, next_cursor = LISTING_ORDER.page(await self.comments.page(document_id, cursor, limit + 1), limit)
        return Page[CommentRead](items=[CommentRead.from_doc(d) for d in docs], next_cursor=next_cursor)

    async def add(self, *, user_id: str, document_id: str, data: CommentCreate, client: Client) -> CommentRead:
        access = await self.access.resolve(document_id, user_id)
        access.require_comment()
        author = await self.users.person(user_id)
        now, now_us = stamp()
        comment_id = new_id(length=ID_LENGTH)
        doc = {"_id": comment_id, "document_id": document_id, "author_id": user_id, "author_name": author.full_name,
               "body": data.body, "created_at": now, "created_us": now_us,
               "sort_key": sort_key(now_us, comment_id), "updated_at": now}
        commented = DocumentCommented(document_id=document_id, owner_id=str(access.document["owner_id"]),
                                      comment_id=comment_id, author_id=user_id, client=client)
        await self.comments.insert(doc, [self.event(commented)])
        return CommentRead.from_doc(doc)

    async def _own(self, user_id: str, document_id: str, comment_id: str) -> dict[str, Any]:
        await self.access.resolve(document_id, user_id)
        doc = await self.comments.get(document_id, checked_id(comment_id, "comment"))
        if doc is None:
            raise NotFound("No such comment.")
        if doc.get("author_id") != user_id:
            raise Forbidden("Only the author may change a comment.")
        return doc

    async def edit(self, *, user_id: str, document_id: str, comment_id: str, data: CommentUpdate) -> CommentRead:
        doc = await self._own(user_id, document_id, comment_id)
        now, _ = stamp()
        await self.comments.update(doc["_id"], {"body": data.body, "updated_at": now})
        return CommentRead.from_doc({**doc, "body": data.body, "updated_at": now})

    async def delete(self, *, user_id: str, document_id: str, comment_id: str) -> None:
        doc = await self._own(user_id, document_id, comment_id)
        await self.comments.delete(doc["_id"])
