"""The only code that touches ``webhook_deliveries``: the delivery log, one per (event, webhook)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict

from bson.errors import InvalidDocument
from pymongo import ASCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, OperationFailure

from docflow_notify.webhooks.schemas import OPEN_STATUSES, DeliveryStatus
from docflow_shared.batching import GroupCommit
from docflow_shared.mongo import Document, SetTime
from docflow_shared.pagination import NEWEST_FIRST
from docflow_shared.repository import Collection

COLLECTION = "webhook_deliveries"
OPEN = [status.value for status in OPEN_STATUSES]
DUPLICATE_KEY = 11000
# raised for one document while a batch is encoded: the batch is written again one by one
ENCODING_ERRORS: tuple[type[Exception], ...] = (InvalidDocument,)
# a claimed delivery and the changes its attempt's outcome makes
Outcome = tuple[Mapping[str, Any], Mapping[str, Any]]


class WebhookDeliveryDocument(TypedDict, total=False):
    _id: str
    webhook_id: str
    owner_id: str
    event_id: str
    event_type: str
    body: str  # the notification as posted (JSON), signed again on every attempt
    status: str  # a DeliveryStatus
    attempts: int
    next_attempt_at: float  # epoch seconds (``epoch``): due, or the end of a sender's claim
    give_up_at: float  # epoch seconds
    created_at: datetime
    traceparent: str | None  # the trace every attempt joins
    last_status_code: int | None
    last_error: str | None
    updated_at: SetTime  # ``$set`` by every change
    delivered_at: SetTime
    failed_at: SetTime


def epoch() -> float:
    """Scheduling times are epoch seconds: numbers compare the same on every MongoDB-compatible server."""
    return time.time()


def _outcomes(exc: BulkWriteError, count: int) -> list[bool | BaseException]:
    """Per item of an unordered bulk write that met errors: True when written, False for a
    duplicate key, else the item's error."""
    if exc.details.get("writeConcernErrors"):
        raise exc
    outcomes: list[bool | BaseException] = [True] * count
    for error in exc.details.get("writeErrors", []):
        index, code = int(error["index"]), int(error.get("code", 0))
        outcomes[index] = False if code == DUPLICATE_KEY else OperationFailure(
            str(error.get("errmsg", "write error")), code)
    return outcomes


class DeliveryRepository(Collection[WebhookDeliveryDocument]):
    """The delivery log. New deliveries and attempt outcomes stored at the same moment (the
    events of one prefetch, the attempts of one send-loop pass) share a bulk write
    (``GroupCommit``); each caller still waits for its own, so a delivery is stored before it
    is sent and its outcome is stored before its event is acknowledged."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db[COLLECTION])
        self._inserts: GroupCommit[WebhookDeliveryDocument, bool] = GroupCommit(
            self._insert_many, own_errors=ENCODING_ERRORS, name="webhook-delivery-inserts")
        self._records: GroupCommit[Outcome, bool] = GroupCommit(
            self._record_many, own_errors=ENCODING_ERRORS, name="webhook-delivery-outcomes")

    async def ensure_indexes(self) -> None:
        await self.collection.create_indexes([
            IndexModel([("event_id", ASCENDING), ("webhook_id", ASCENDING)], unique=True,
                       name="one_delivery_per_event_and_webhook"),
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
            IndexModel([("webhook_id", ASCENDING)], name="by_webhook"),
        ])

    async def insert(self, doc: WebhookDeliveryDocument) -> bool:
        """False when this event already has a delivery to this webhook (a redelivered event)."""
        return await self._inserts.submit(doc)

    async def _insert_many(self, docs: Sequence[WebhookDeliveryDocument]) -> list[bool | BaseException]:
        try:
            await self.typed.insert_many(list(docs), ordered=False)
        except BulkWriteError as exc:
            return _outcomes(exc, len(docs))
        return [True] * len(docs)

    async def get(self, delivery_id: str) -> WebhookDeliveryDocument | None:
        return await self.typed.find_one({"_id": delivery_id})

    async def claim(self, delivery_id: str, *, claim_seconds: float) -> WebhookDeliveryDocument | None:
        """Take a due delivery for one attempt; None when it is not due or another sender has it."""
        at = epoch()
        return await self.typed.find_one_and_update(
            {"_id": delivery_id, "status": {"$in": OPEN}, "next_attempt_at": {"$lte": at}},
            {"$set": {"status": DeliveryStatus.SENDING.value, "next_attempt_at": at + claim_seconds,
                      "updated_at": datetime.now(UTC)},
             "$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER)

    async def record(self, claimed: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        """Store an attempt's outcome, unless another sender took the delivery since."""
        await self._records.submit((claimed, {**changes, "updated_at": datetime.now(UTC)}))

    async def _record_many(self, outcomes: Sequence[Outcome]) -> list[bool | BaseException]:
        """One unordered bulk write; each update is guarded by the claim it was made under."""
        updates = [UpdateOne({"_id": claimed["_id"], "status": DeliveryStatus.SENDING.value,
                              "attempts": claimed["attempts"]}, {"$set": dict(changes)})
                   for claimed, changes in outcomes]
        try:
            await self.collection.bulk_write(updates, ordered=False)
        except BulkWriteError as exc:
            return _outcomes(exc, len(outcomes))
        return [True] * len(outcomes)

    async def reopen(self, delivery_id: str, *, give_up_at: float) -> WebhookDeliveryDocument | None:
        """Due again now, with a fresh 24 h, unless it is being sent at this moment."""
        return await self.typed.find_one_and_update(
            {"_id": delivery_id, "status": {"$ne": DeliveryStatus.SENDING.value}},
            {"$set": {"status": DeliveryStatus.PENDING.value, "next_attempt_at": epoch(), "give_up_at": give_up_at,
                      "updated_at": datetime.now(UTC)}},
            return_document=ReturnDocument.AFTER)

    async def due_ids(self, *, limit: int) -> list[str]:
        docs = await self.collection.find({"status": {"$in": OPEN}, "next_attempt_at": {"$lte": epoch()}},
                                          {"_id": 1}).sort("next_attempt_at", ASCENDING).limit(limit).to_list()
        return [str(doc["_id"]) for doc in docs]

    async def page(self, *, webhook_id: str, after: dict[str, Any], limit: int) -> list[WebhookDeliveryDocument]:
        return await self.typed.find({"webhook_id": webhook_id, **after}, {"body": 0}).sort(
            NEWEST_FIRST.sort).limit(limit).to_list()
