"""The local projection of users, built from ``user.*`` events."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

Doc = dict[str, Any]


class UserRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.users = db["users"]

    async def create_indexes(self) -> None:
        await self.users.create_index([("email", 1)])

    async def upsert(self, user_id: str, fields: Doc, event_us: int) -> None:
        """Apply a newer state; an older or repeated event changes nothing.

        The age check is part of the write itself, so replicas handling a user's events at the
        same time cannot let an older state overwrite a newer one.
        """
        newer_than_stored = {"_id": user_id, "event_us": {"$lte": event_us}, "deleted": {"$ne": True}}
        update = {"$set": {**fields, "event_us": event_us}}
        if (await self.users.update_one(newer_than_stored, update)).matched_count:
            return
        try:
            await self.users.insert_one({"_id": user_id, **fields, "event_us": event_us, "deleted": False})
        except DuplicateKeyError:
            # someone stored this user meanwhile: apply ours only if it is still the newer one
            await self.users.update_one(newer_than_stored, update)

    async def mark_deleted(self, user_id: str, event_us: int) -> None:
        await self.users.update_one(
            {"_id": user_id},
            {"$set": {"deleted": True, "event_us": event_us, "email": "", "full_name": ""}},
            upsert=True,
        )

    async def get(self, user_id: str) -> Doc | None:
        return await self.users.find_one({"_id": user_id, "deleted": False})

    async def by_emails(self, emails: list[str]) -> list[Doc]:
        if not emails:
            return []
        return await self.users.find({"email": {"$in": emails}, "deleted": False}).to_list()
