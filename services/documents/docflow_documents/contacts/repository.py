"""Every query on ``contacts``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_documents.ids import LISTING_ORDER

Doc = dict[str, Any]


class ContactDocument(TypedDict):
    _id: str
    owner_id: str
    contact_user_id: str
    email: str
    full_name: str
    created_at: datetime
    created_us: int  # the ordering counter in ``sort_key``
    sort_key: str


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
        where = {"owner_id": owner_id, **LISTING_ORDER.after(cursor)}
        return await self.contacts.find(where).sort(LISTING_ORDER.sort).limit(limit).to_list()

    async def delete_involving(self, user_id: str) -> None:
        await self.contacts.delete_many({"$or": [{"owner_id": user_id}, {"contact_user_id": user_id}]})
