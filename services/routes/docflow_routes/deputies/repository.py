"""Standing deputies: one per user, for a period (the only code touching ``deputies``)."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.mongo import Document

DEPUTIES = "deputies"


class DeputyRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[DEPUTIES]

    async def create_indexes(self) -> None:
        return None  # looked up by _id (the user) only

    async def put(self, user_id: str, *, email: str, starts_at: datetime | None, until: datetime | None,
                  at: datetime) -> Document:
        doc = {"_id": user_id, "email": email, "starts_at": starts_at, "until": until, "updated_at": at}
        await self.collection.replace_one({"_id": user_id}, doc, upsert=True)
        return doc

    async def get(self, user_id: str) -> Document | None:
        return await self.collection.find_one({"_id": user_id})

    async def delete(self, user_id: str) -> bool:
        return (await self.collection.delete_one({"_id": user_id})).deleted_count > 0
