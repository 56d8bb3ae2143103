"""Server-issued challenges that a certificate's key signs to prove its holder registers it.

A challenge is random, bound to the account that asked for it, expires after a few minutes and is
spent by the first upload that presents it, whatever that upload's outcome: a proof seen once can
never be replayed. Only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.errors import TooManyRequests
from docflow_shared.mongo import Document, utc_now

CHALLENGES = "key_challenges"
CHALLENGE_PREFIX = "docflow-key-challenge."
CHALLENGE_TTL = timedelta(minutes=5)
MAX_OPEN_CHALLENGES = 10


def _key(challenge: str) -> str:
    return hashlib.sha256(challenge.encode("utf-8", "replace")).hexdigest()


class ChallengeRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[CHALLENGES]

    async def create_indexes(self) -> None:
        await self.collection.create_index("expires_at", expireAfterSeconds=0, name="expires_at_ttl")
        await self.collection.create_index([("user_id", ASCENDING)])

    async def issue(self, user_id: str) -> tuple[str, datetime]:
        """A fresh challenge for ``user_id`` and when it expires; 429 when too many are open."""
        now = utc_now()
        open_count = await self.collection.count_documents({"user_id": user_id, "expires_at": {"$gt": now}})
        if open_count >= MAX_OPEN_CHALLENGES:
            raise TooManyRequests("Too many open key challenges; use one or wait a few minutes.")
        challenge = CHALLENGE_PREFIX + secrets.token_urlsafe(32)
        expires_at = now + CHALLENGE_TTL
        await self.collection.insert_one({"_id": _key(challenge), "user_id": user_id, "expires_at": expires_at})
        return challenge, expires_at

    async def spend(self, user_id: str, challenge: str) -> bool:
        """Whether ``challenge`` was issued to ``user_id`` and is unexpired; it is spent either way."""
        result = await self.collection.delete_one(
            {"_id": _key(challenge), "user_id": user_id, "expires_at": {"$gt": utc_now()}}
        )
        if result.deleted_count == 1:
            return True
        await self.collection.delete_one({"_id": _key(challenge), "user_id": user_id})
        return False
