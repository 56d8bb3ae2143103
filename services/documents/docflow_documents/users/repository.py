"""The local projection of users, built from ``user.*`` events."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]


class UserRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.users = db["users"]

    async def create_indexes(self) -> None:
        await self.users.create_index([("email", 1)])

    async def upsert(self, user_id: str, fields: Doc, event_us: int) -> None:
        """Apply a newer state; an older or repeated event changes nothing."""
        current = await self.users.find_one({"_id": user_id}, {"event_us": 1, "deleted": 1})
        if current is None:
            await self.users.update_one(
                {"_id": user_id}, {"$setOnInsert": {**fields, "event_us": event_us, "deleted": False}}, upsert=True
            )
            return
        if bool(current.get("deleted")) or int(current.get("event_us") or 0) > event_us:
            return
        await self.users.update_one({"_id": user_id}, {"$set": {**fields, "event_us": event_us}})

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
