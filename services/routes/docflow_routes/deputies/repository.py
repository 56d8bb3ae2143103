"""Standing deputies: one per user, for a period (the only code touching ``deputies``)."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.mongo import Document
from docflow_shared.repository import Collection

DEPUTIES = "deputies"


class DeputyDocument(TypedDict):
    """A user's standing deputy: whole documents, replaced on every change, so the times stay dates."""

    _id: str  # the user
    email: str  # the deputy's address
    starts_at: datetime | None
    until: datetime | None
    updated_at: datetime


class DeputyRepository(Collection[DeputyDocument]):
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db[DEPUTIES])

    async def create_indexes(self) -> None:
        return None  # looked up by _id (the user) only

    async def put(self, user_id: str, *, email: str, starts_at: datetime | None, until: datetime | None,
                  at: datetime) -> DeputyDocument:
        doc: DeputyDocument = {"_id": user_id, "email": email, "starts_at": starts_at, "until": until, "updated_at": at}
        await self.typed.replace_one({"_id": user_id}, doc, upsert=True)
        return doc

    async def get(self, user_id: str) -> DeputyDocument | None:
        return await self.typed.find_one({"_id": user_id})

    async def delete(self, user_id: str) -> bool:
        return (await self.collection.delete_one({"_id": user_id})).deleted_count > 0
