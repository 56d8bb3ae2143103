"""The sessions collection: one document per refresh-token family.

A session stores only the hash of its current refresh token and its generation; rotating is
one replacement guarded by the session's revision, so two uses of the same token cannot both
win. Its times are BSON dates that queries compare (expiry, rotation), so they are written by
inserts and replacements only (``docflow_shared.mongo``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo import DESCENDING

from docflow_shared.events import Event
from docflow_shared.mongo import Document, migrate_times
from docflow_shared.outbox import REV, StaleDocument, Whole, read_one, retry_stale
from docflow_shared.repository import Repository, Stored

LIVE: dict[str, Any] = {"revoked_at": None}
# times stored once as numeric twins beside the dates (``expires_ts``), rewritten at start
TIMES = ("expires_at", "absolute_expires_at", "rotated_at", "last_used_at")
TWINS = {"expires_at": "expires_ts", "absolute_expires_at": "absolute_ts", "rotated_at": "rotated_ts"}


class SessionDocument(Stored, total=False):
    _id: str
    user_id: str
    role: str
    email_verified: bool
    token_hash: str
    previous_hash: str
    generation: int
    created_at: datetime
    last_used_at: datetime
    rotated_at: datetime
    expires_at: datetime
    absolute_expires_at: datetime
    purge_at: datetime  # a TTL index removes the session a day after its absolute expiry
    revoked_at: datetime | None
    revoked_reason: str
    user_agent: str | None
    ip: str | None


def unexpired(now: datetime) -> dict[str, Any]:
    return {**LIVE, "expires_at": {"$gt": now}, "absolute_expires_at": {"$gt": now}}


class SessionsRepository(Repository[SessionDocument]):
    """Sessions are revoked (``revoked_at``), never soft-deleted."""

    async def ensure_indexes(self) -> None:
        await migrate_times(self.collection, TIMES, TWINS)
        await self.collection.create_index([("user_id", 1), ("created_at", DESCENDING)], name="user_sessions")
        await self.collection.create_index("token_hash", name="token_hash")
        await self.collection.create_index("purge_at", expireAfterSeconds=0, name="purge_at_ttl")

    async def create(self, session: SessionDocument) -> None:
        await self.add(session)

    async def _with_outbox(self, session: Whole) -> Whole:
        """A session stored before sessions carried events gets its outbox fields first."""
        if REV not in session:
            await self.collection.update_one({"_id": session["_id"], REV: {"$exists": False}},
                                             {"$set": {"outbox": [], "outbox_pending": False, REV: 0}})
            raise StaleDocument(str(session["_id"]))
        return session

    async def rotate(self, session_id: str, *, old_hash: str, new_hash: str, generation: int, now: datetime,
                     expires_at: datetime) -> Whole | None:
        """Swap the current token for the next one; None when ``old_hash`` is not current/live."""

        async def attempt() -> Whole | None:
            session = await read_one(self.collection, {"_id": session_id, "token_hash": old_hash, **unexpired(now)})
            if session is None:
                return None
            return await self.update(await self._with_outbox(session), {
                "token_hash": new_hash, "generation": generation, "last_used_at": now,
                "expires_at": expires_at, "previous_hash": old_hash, "rotated_at": now})

        return await retry_stale(attempt)

    async def rotated_within(self, session_id: str, *, old_hash: str, new_hash: str, now: datetime,
                             grace: float) -> Whole | None:
        """The live session whose current token is ``new_hash``, rotated from ``old_hash`` less
        than ``grace`` seconds ago; None otherwise."""
        return await read_one(self.collection, {
            "_id": session_id, "token_hash": new_hash, "previous_hash": old_hash, **unexpired(now),
            "rotated_at": {"$gt": now - timedelta(seconds=grace)}})

    async def revoke(self, session_id: str, *, reason: str, now: datetime, user_id: str | None = None,
                     announce: Callable[[Document], Event] | None = None) -> bool:
        """End a live session, with the event ``announce`` builds from it (``session.revoked``)."""
        query: dict[str, Any] = {"_id": session_id, **LIVE}
        if user_id is not None:
            query["user_id"] = user_id

        async def attempt() -> bool:
            session = await read_one(self.collection, query)
            if session is None:
                return False
            events = [announce(session)] if announce is not None else []
            await self.update(await self._with_outbox(session), {"revoked_at": now, "revoked_reason": reason},
                              events)
            return True

        return await retry_stale(attempt)

    async def revoke_for_user(self, user_id: str, *, reason: str, now: datetime,
                              keep: str | None = None) -> int:
        query: dict[str, Any] = {"user_id": user_id, **LIVE}
        if keep:
            query["_id"] = {"$ne": keep}
        # ``revoked_at`` is only ever compared with null, so ``$set`` may write it
        result = await self.bump(query, {"$set": {"revoked_at": now, "revoked_reason": reason}}, many=True)
        return result.modified_count

    async def live_for_user(self, user_id: str, *, now: datetime, limit: int = 100) -> list[Document]:
        return await self.collection.find(
            {"user_id": user_id, **unexpired(now)}, {"token_hash": 0},
        ).sort("created_at", DESCENDING).limit(limit).to_list(limit)

    async def sync_claims(self, user_id: str, **claims: Any) -> None:
        """Keep the claims copied into live sessions (role, email_verified) equal to the user's."""
        await self.bump({"user_id": user_id, **LIVE}, {"$set": claims}, many=True)
