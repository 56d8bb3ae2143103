"""Every query on ``contacts``."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_documents.paging import SORT, after_cursor

Doc = dict[str, Any]


class ContactRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.contacts = db["contacts"]

    async def create_indexes(self) -> None:
        await self.contacts.create_index([("owner_id", 1), ("contact_user_id", 1)], unique=True)
        await self.contacts.create_index([("owner_id", 1), ("sort_key", -1)])
        await self.contacts.create_index([("contact_user_id", 1)])

    async def insert(self, doc: Doc) -> bool:
        """False when the owner already has this contact."""
        if await self.contacts.find_one({"owner_id": doc["owner_id"], "contact_user_id": doc["contact_user_id"]}):
            return False
        try:
            await self.contacts.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def get_for(self, contact_id: str, owner_id: str) -> Doc | None:
        return await self.contacts.find_one({"_id": contact_id, "owner_id": owner_id})

    async def delete(self, contact_id: str) -> None:
        await self.contacts.delete_one({"_id": contact_id})

    async def page(self, owner_id: str, cursor: str | None, limit: int) -> list[Doc]:
        where = {"owner_id": owner_id, **after_cursor(cursor)}
        return await self.contacts.find(where).sort(SORT).limit(limit).to_list()

    async def delete_involving(self, user_id: str) -> None:
        await self.contacts.delete_many({"$or": [{"owner_id": user_id}, {"contact_user_id": user_id}]})
