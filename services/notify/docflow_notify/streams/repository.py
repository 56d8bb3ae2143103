"""The only code that touches ``notifications``: each user's recent events, kept for replay."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TypedDict

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.mongo import Document, ensure_expiry, migrate_times, utc_now
from docflow_shared.repository import Collection

COLLECTION = "notifications"
# a reconnecting client replays at most this many events
REPLAY_LIMIT = 1000


class NotificationDocument(TypedDict, total=False):
    _id: str  # ``<event id>:<user id>``
    event_id: str
    type: str  # the event's type
    at: datetime  # the event's time, which replays query (to the millisecond)
    time: str  # the message's ``time`` as sent, to the microsecond (payload text, never queried)
    user_id: str
    links: dict[str, str]
    stored_at: datetime  # the TTL index removes it ``keep_seconds`` after


class NotificationRepository(Collection[NotificationDocument]):
    """One document per (event, user); every notify replica writes the same one (its ``_id`` is
    made of both, so the first write wins), and any replica can replay what another sent live."""

    def __init__(self, db: AsyncDatabase[Document], *, keep_seconds: int) -> None:
        super().__init__(db[COLLECTION])
        self.keep_seconds = keep_seconds

    async def ensure_indexes(self) -> None:
        await migrate_times(self.collection, ["at"])  # once epoch seconds
        await self.collection.create_indexes([
            IndexModel([("user_id", ASCENDING), ("at", ASCENDING)], name="user_stream"),
        ])
        await ensure_expiry(self.collection, "stored_at", self.keep_seconds)

    async def store(self, *, event_id: str, event_type: str, at: datetime, user_id: str,
                    links: Mapping[str, str]) -> None:
        try:
            await self.typed.insert_one({
                "_id": f"{event_id}:{user_id}", "event_id": event_id, "type": event_type,
                "at": at, "time": at.isoformat(), "user_id": user_id, "links": dict(links),
                "stored_at": utc_now(),
            })
        except DuplicateKeyError:
            pass  # another replica stored it first

    async def recent(self, user_id: str, *, seconds: int) -> list[NotificationDocument]:
        """The user's events of the last ``seconds``, oldest first."""
        since = utc_now() - timedelta(seconds=seconds)
        return await self.typed.find({"user_id": user_id, "at": {"$gte": since}}).sort(
            [("at", ASCENDING), ("_id", ASCENDING)]).limit(REPLAY_LIMIT).to_list()
