"""The only code that touches the ``deliveries`` collection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from docflow_mail.deliveries.schemas import OPEN_STATUSES, DeliveryStatus
from docflow_shared.batching import GroupCommit
from docflow_shared.errors import Conflict
from docflow_shared.events import Event
from docflow_shared.mongo import Document, SetTime, migrate_times, utc_now
from docflow_shared.outbox import Outbox, Whole, inserted, outbox_fields, read_one, retry_stale
from docflow_shared.pagination import NEWEST_FIRST
from docflow_shared.repository import ENCODING_ERRORS, Repository, Stored

COLLECTION = "deliveries"


# Scheduling times that queries compare; once stored as epoch seconds, rewritten at start.
SCHEDULE = ("next_attempt_at", "give_up_at")


def now() -> datetime:
    return utc_now()


class DeliveryDocument(Stored, total=False):
    _id: str
    event_id: str
    event_type: str
    recipient: str  # ``erased:<user id>`` once the user is erased
    recipient_name: str
    user_id: str | None
    template: str
    locale: str
    subject: str
    context: dict[str, Any]  # what the template needs to render again; secrets only sealed
    sealed_context: str
    status: str  # a DeliveryStatus
    attempts: int
    last_error: str | None
    smtp_reply: str
    write_id: str
    created_at: datetime
    updated_at: SetTime  # ``$set`` by ``erase_user`` too
    next_attempt_at: datetime  # when it is due (or its claim ends, while sending)
    give_up_at: datetime
    sent_at: datetime
    failed_at: datetime


class DeliveryRepository(Repository[DeliveryDocument]):
    def __init__(self, db: AsyncDatabase[Document], outbox: Outbox) -> None:
        super().__init__(db[COLLECTION], outbox)
        self._inserts: GroupCommit[Mapping[str, Any], bool] = GroupCommit(
            self.insert_each, own_errors=ENCODING_ERRORS, name="mail-inserts")
        self._replacements: GroupCommit[tuple[dict[str, Any], dict[str, Any]], bool] = GroupCommit(
            self.replace_each, own_errors=ENCODING_ERRORS, name="mail-outcomes")

    async def ensure_indexes(self) -> None:
        await migrate_times(self.collection, SCHEDULE)
        await self.collection.create_indexes([
            IndexModel([("event_id", ASCENDING), ("recipient", ASCENDING)], unique=True,
                       name="one_mail_per_event_and_recipient"),
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
            IndexModel([("recipient", ASCENDING)], name="by_recipient"),
            IndexModel([("user_id", ASCENDING)], name="by_user"),
        ])

    async def insert(self, doc: Mapping[str, Any]) -> bool:
        """Store a new delivery; False when this event already has one for this recipient."""
        return await self._inserts.submit(self.as_inserted(doc))

    @staticmethod
    def as_inserted(doc: Mapping[str, Any]) -> Whole:
        """The delivery as ``insert`` stores it, to send right after storing it."""
        return inserted({**doc, **outbox_fields()})

    async def find_for(self, event_id: str, recipient: str) -> Whole | None:
        return await read_one(self.collection, {"event_id": event_id, "recipient": recipient})

    async def claim(self, delivery_id: str, *, claim_seconds: float) -> Whole | None:
        """Take a due delivery for one sending attempt; None when it is not due or taken.

        A replacement under the revision guard: ``next_attempt_at`` is a date that queries
        compare, so no update operator writes it (``docflow_shared.mongo``)."""

        async def attempt() -> Whole | None:
            at = now()
            current = await read_one(self.collection, {
                "_id": delivery_id, "status": {"$in": [s.value for s in OPEN_STATUSES]},
                "next_attempt_at": {"$lte": at}})
            if current is None:
                return None
            return await self.outbox.update(self.collection, current, {
                "status": DeliveryStatus.SENDING.value, "updated_at": at,
                "next_attempt_at": at + timedelta(seconds=claim_seconds),
                "attempts": int(current.get("attempts", 0) or 0) + 1})

        try:
            return await retry_stale(attempt)
        except Conflict:
            return None  # changed over and over meanwhile: taken, or due again at the next pass

    async def due_ids(self, *, limit: int) -> list[str]:
        docs = await self.collection.find(
            {"status": {"$in": [s.value for s in OPEN_STATUSES]}, "next_attempt_at": {"$lte": now()}},
            {"_id": 1},
        ).sort("next_attempt_at", ASCENDING).limit(limit).to_list()
        return [str(d["_id"]) for d in docs]

    async def update(self, current: Whole, changes: Mapping[str, Any],
                     events: Sequence[Event] = (), *, unset: Sequence[str] = (),
                     purge_when_published: bool = False) -> Whole:
        """Raises StaleDocument when another writer changed the delivery since ``current``."""
        return await super().update(current, {**changes, "updated_at": now()}, events, unset=unset,
                                    purge_when_published=purge_when_published)

    async def record(self, current: Whole, changes: Mapping[str, Any],
                     events: Sequence[Event] = (), *, unset: Sequence[str] = ()) -> bool:
        """Store a sending attempt's outcome, written together with other outcomes of the moment;
        False when another writer changed the delivery since ``current``."""
        stored = await self._replacements.submit(
            self.replacement(current, {**changes, "updated_at": now()}, events, unset=unset))
        if events:
            self.outbox.wake_relay()
        return stored

    async def erase_user(self, user_id: str) -> int:
        """Anonymise a deleted user's deliveries: the address, the name and any rendered body go.

        Bumps ``outbox_rev``: an attempt that read the delivery before (and is sending it now)
        then loses its guard instead of writing the address back with its outcome."""
        result = await self.bump(
            {"user_id": user_id, "recipient": {"$ne": f"erased:{user_id}"}},
            {"$set": {"recipient": f"erased:{user_id}", "recipient_name": "", "subject": "",
                      "updated_at": now()},
             "$unset": {"context": "", "sealed_context": ""}},
            many=True,
        )
        return int(result.modified_count)

    async def page(self, *, status: str | None, recipient: str | None, after: dict[str, Any],
                   limit: int) -> list[DeliveryDocument]:
        query: dict[str, Any] = dict(after)
        if status:
            query["status"] = status
        if recipient:
            query["recipient"] = recipient
        return await self.typed.find(query, {"context": 0, "sealed_context": 0, "outbox": 0}).sort(
            NEWEST_FIRST.sort).limit(limit).to_list()
