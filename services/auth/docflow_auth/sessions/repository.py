"""The sessions collection: one document per refresh-token family.

A session stores only the hash of its current refresh token and its generation; rotating is
one conditional update, so two uses of the same token cannot both win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from docflow_shared.mongo import Document

LIVE: dict[str, Any] = {"revoked_at": None}


class SessionsRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("user_id", 1), ("created_at", DESCENDING)], name="user_sessions")
        await self.collection.create_index("token_hash", name="token_hash")
        await self.collection.create_index("purge_at", expireAfterSeconds=0, name="purge_at_ttl")

    async def create(self, session: Document) -> None:
        await self.collection.insert_one(session)

    async def get(self, session_id: str) -> Document | None:
        return await self.collection.find_one({"_id": session_id})

    async def rotate(self, session_id: str, *, old_hash: str, new_hash: str, generation: int, now: datetime,
                     expires_at: datetime) -> Document | None:
        """Swap the current token for the next one; None when ``old_hash`` is not current/live."""
        at = now.timestamp()
        return await self.collection.find_one_and_update(
            {"_id": session_id, "token_hash": old_hash, **LIVE, "expires_ts": {"$gt": at}, "absolute_ts": {"$gt": at}},
            {"$set": {"token_hash": new_hash, "generation": generation, "last_used_at": now,
                      "expires_at": expires_at, "expires_ts": expires_at.timestamp()}},
            return_document=ReturnDocument.AFTER,
        )

    async def revoke(self, session_id: str, *, reason: str, now: datetime, user_id: str | None = None) -> bool:
        query: dict[str, Any] = {"_id": session_id, **LIVE}
        if user_id is not None:
            query["user_id"] = user_id
        result = await self.collection.update_one(query, {"$set": {"revoked_at": now, "revoked_reason": reason}})
        return result.modified_count > 0

    async def revoke_for_user(self, user_id: str, *, reason: str, now: datetime,
                              keep: str | None = None) -> int:
        query: dict[str, Any] = {"user_id": user_id, **LIVE}
        if keep:
            query["_id"] = {"$ne": keep}
        result = await self.collection.update_many(query, {"$set": {"revoked_at": now, "revoked_reason": reason}})
        return result.modified_count

    async def live_for_user(self, user_id: str, *, now: datetime, limit: int = 100) -> list[Document]:
        at = now.timestamp()
        return await self.collection.find(
            {"user_id": user_id, **LIVE, "expires_ts": {"$gt": at}, "absolute_ts": {"$gt": at}},
            {"token_hash": 0},
        ).sort("created_at", DESCENDING).limit(limit).to_list(limit)

    async def sync_claims(self, user_id: str, **claims: Any) -> None:
        """Keep the claims copied into live sessions (role, email_verified) equal to the user's."""
        await self.collection.update_many({"user_id": user_id, **LIVE}, {"$set": claims})
