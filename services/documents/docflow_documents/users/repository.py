"""The local projection of users, built from ``user.*`` events."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.mongo import update_first
from docflow_shared.projection.repository import ProjectedUser

Doc = dict[str, Any]


class UserDocument(ProjectedUser, total=False):
    """A user as documents knows them: the address as it was proven, for the share directory."""

    verified_email: str | None


class UserRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.users = db["users"]

    async def create_indexes(self) -> None:
        await self.users.create_index([("email", 1)])
        await self.users.create_index([("verified_email", 1)])

    async def upsert(self, user_id: str, fields: Doc, event_us: int) -> None:
        """Apply a newer state; an older or repeated event changes nothing.

        The age check is part of the write itself, so replicas handling a user's events at the
        same time cannot let an older state overwrite a newer one.
        """
        await self._set_newer(user_id, "event_us", fields, event_us)

    async def set_verified_address(self, user_id: str, email: str | None, event_us: int) -> None:
        """Record the address the user has proven (None: none at the moment), newer-wins.

        Kept apart from the profile's own ``event_us``: ``user.email_verified`` says nothing about
        the name or locale, and a profile event must not be held back by a later verification.
        """
        await self._set_newer(user_id, "address_us", {"verified_email": email}, event_us)

    async def _set_newer(self, user_id: str, clock: str, fields: Doc, event_us: int) -> None:
        """Compare-and-set on ``clock`` (an ``event_clock``, integer microseconds). Entries stored
        before this clock existed lack it and count as older (``update_first``)."""
        update = {"$set": {**fields, clock: event_us}}
        newer_than_stored = {"_id": user_id, "deleted": {"$ne": True}, clock: {"$lte": event_us}}
        unclocked = {"_id": user_id, "deleted": {"$ne": True}, clock: {"$exists": False}}
        if await update_first(self.users, [newer_than_stored, unclocked], update):
            return
        try:
            await self.users.insert_one({"_id": user_id, "event_us": 0, "address_us": 0, "verified_email": None,
                                         "deleted": False, **fields, clock: event_us})
        except DuplicateKeyError:
            # someone stored this user meanwhile: apply ours only if it is still the newer one
            await self.users.update_one(newer_than_stored, update)

    async def mark_deleted(self, user_id: str, event_us: int) -> None:
        await self.users.update_one(
            {"_id": user_id},
            {"$set": {"deleted": True, "event_us": event_us, "email": "", "full_name": "", "verified_email": None}},
            upsert=True,
        )

    async def get(self, user_id: str) -> Doc | None:
        return await self.users.find_one({"_id": user_id, "deleted": False})

    async def by_verified_emails(self, emails: list[str]) -> list[Doc]:
        """The accounts that have proven these addresses; of two claiming one address (a stale
        verification not yet superseded here), the later proof comes last."""
        if not emails:
            return []
        return await self.users.find({"verified_email": {"$in": emails}, "deleted": False}).sort(
            "address_us", 1).to_list()
