"""The only code that touches ``webhook_deliveries``: the delivery log, one per (event, webhook)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from docflow_notify.webhooks.schemas import OPEN_STATUSES, DeliveryStatus
from docflow_shared.batching import GroupCommit
from docflow_shared.errors import Conflict
from docflow_shared.mongo import Document, migrate_times, utc_now
from docflow_shared.outbox import REV, Whole, inserted, outbox_fields, read_one, retry_stale
from docflow_shared.pagination import NEWEST_FIRST
from docflow_shared.repository import ENCODING_ERRORS, Repository, Stored

COLLECTION = "webhook_deliveries"
OPEN = [status.value for status in OPEN_STATUSES]
# Scheduling times that queries compare; once stored as epoch seconds, rewritten at start.
SCHEDULE = ("next_attempt_at", "give_up_at")


class WebhookDeliveryDocument(Stored, total=False):
    _id: str
    webhook_id: str
    owner_id: str
    event_id: str
    event_type: str
    body: str  # the notification as posted (JSON), signed again on every attempt
    status: str  # a DeliveryStatus
    attempts: int
    next_attempt_at: datetime  # when it is due, or the end of a sender's claim
    give_up_at: datetime
    created_at: datetime
    traceparent: str | None  # the trace every attempt joins
    last_status_code: int | None
    last_error: str | None
    write_id: str
    updated_at: datetime
    delivered_at: datetime
    failed_at: datetime


class DeliveryRepository(Repository[WebhookDeliveryDocument]):
    """The delivery log, written as mail's is: whole documents under the revision guard, since
    ``next_attempt_at`` is a date that queries compare (``docflow_shared.mongo``). New deliveries
    and attempt outcomes stored at the same moment (the events of one prefetch, the attempts of
    one send-loop pass) share a bulk write (``GroupCommit``); each caller still waits for its own,
    so a delivery is stored before it is sent and its outcome before its event is acknowledged."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db[COLLECTION])
        self._inserts: GroupCommit[Mapping[str, Any], bool] = GroupCommit(
            self.insert_each, own_errors=ENCODING_ERRORS, name="webhook-delivery-inserts")
        self._records: GroupCommit[tuple[dict[str, Any], dict[str, Any]], bool] = GroupCommit(
            self.replace_each, own_errors=ENCODING_ERRORS, name="webhook-delivery-outcomes")

    async def ensure_indexes(self) -> None:
        # deliveries stored before the revision guard get one, then dates for epoch seconds
        await self.collection.update_many({REV: {"$exists": False}}, {"$set": outbox_fields()})
        await migrate_times(self.collection, SCHEDULE)
        await self.collection.create_indexes([
            IndexModel([("event_id", ASCENDING), ("webhook_id", ASCENDING)], unique=True,
                       name="one_delivery_per_event_and_webhook"),
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
            IndexModel([("webhook_id", ASCENDING)], name="by_webhook"),
        ])

    @staticmethod
    def as_inserted(doc: WebhookDeliveryDocument) -> Whole:
        """The delivery as ``insert`` stores it, to send right after storing it."""
        return inserted({**doc, **outbox_fields()})

    async def insert(self, doc: Whole) -> bool:
        """Store a delivery made by ``as_inserted``; False when this event already has a delivery
        to this webhook (a redelivered event)."""
        return await self._inserts.submit(doc)

    async def claim(self, delivery_id: str, *, claim_seconds: float) -> Whole | None:
        """Take a due delivery for one attempt; None when it is not due or another sender has it."""

        async def attempt() -> Whole | None:
            at = utc_now()
            current = await read_one(self.collection, {
                "_id": delivery_id, "status": {"$in": OPEN}, "next_attempt_at": {"$lte": at}})
            if current is None:
                return None
            return await self.update(current, {
                "status": DeliveryStatus.SENDING.value, "updated_at": at,
                "next_attempt_at": at + timedelta(seconds=claim_seconds),
                "attempts": int(current.get("attempts", 0) or 0) + 1})

        try:
            return await retry_stale(attempt)
        except Conflict:
            return None  # changed over and over meanwhile: taken, or due again at the next pass

    async def record(self, claimed: Whole, changes: Mapping[str, Any]) -> bool:
        """Store an attempt's outcome; False when another sender took the delivery since."""
        return await self._records.submit(self.replacement(claimed, {**changes, "updated_at": utc_now()}))

    async def reopen(self, delivery_id: str, *, keep_seconds: float) -> Whole | None:
        """Due again now, with ``keep_seconds`` of retries, unless it is being sent at this moment."""

        async def attempt() -> Whole | None:
            current = await self.get(delivery_id)
            if current is None or current.get("status") == DeliveryStatus.SENDING.value:
                return None
            at = utc_now()
            return await self.update(current, {
                "status": DeliveryStatus.PENDING.value, "next_attempt_at": at,
                "give_up_at": at + timedelta(seconds=keep_seconds), "updated_at": at})

        return await retry_stale(attempt)

    async def due_ids(self, *, limit: int) -> list[str]:
        docs = await self.collection.find({"status": {"$in": OPEN}, "next_attempt_at": {"$lte": utc_now()}},
                                          {"_id": 1}).sort("next_attempt_at", ASCENDING).limit(limit).to_list()
        return [str(doc["_id"]) for doc in docs]

    async def page(self, *, webhook_id: str, after: dict[str, Any], limit: int) -> list[WebhookDeliveryDocument]:
        return await self.typed.find({"webhook_id": webhook_id, **after}, {"body": 0}).sort(
            NEWEST_FIRST.sort).limit(limit).to_list()
