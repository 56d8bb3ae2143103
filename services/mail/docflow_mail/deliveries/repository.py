"""The only code that touches the ``deliveries`` collection."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bson.errors import InvalidDocument
from pymongo import ASCENDING, DESCENDING, IndexModel, ReplaceOne, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, OperationFailure

from docflow_mail.deliveries.batching import GroupCommit
from docflow_mail.deliveries.schemas import OPEN_STATUSES, DeliveryStatus
from docflow_shared.events import Event
from docflow_shared.mongo import Document
from docflow_shared.outbox import PENDING, REV, Outbox, outbox_fields

DUPLICATE_KEY = 11000
# raised for one document while the batch is encoded, before anything is sent to the server
ENCODING_ERRORS: tuple[type[Exception], ...] = (InvalidDocument,)

COLLECTION = "deliveries"


def new_delivery_id() -> str:
    """Opaque, unique and ordered by creation time (keyset pagination sorts by it)."""
    return f"{time.time_ns() // 1000:014x}{os.urandom(8).hex()}"


def now() -> datetime:
    return datetime.now(UTC)


def epoch() -> float:
    """Scheduling times (next_attempt_at, give_up_at) are epoch seconds: numbers compare the
    same on every MongoDB-compatible server."""
    return time.time()


class DeliveryRepository:
    def __init__(self, db: AsyncDatabase[Document], outbox: Outbox) -> None:
        self.collection = db[COLLECTION]
        self.outbox = outbox
        self._inserts: GroupCommit[Mapping[str, Any], bool] = GroupCommit(
            self._insert_many, own_errors=ENCODING_ERRORS)
        self._replacements: GroupCommit[tuple[dict[str, Any], dict[str, Any]], bool] = GroupCommit(
            self._replace_many, own_errors=ENCODING_ERRORS)

    async def ensure_indexes(self) -> None:
        await self.collection.create_indexes([
            IndexModel([("event_id", ASCENDING), ("recipient", ASCENDING)], unique=True,
                       name="one_mail_per_event_and_recipient"),
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
            IndexModel([("recipient", ASCENDING)], name="by_recipient"),
            IndexModel([("user_id", ASCENDING)], name="by_user"),
            IndexModel([(PENDING, ASCENDING)], name="outbox_pending"),
        ])

    async def insert(self, doc: Mapping[str, Any]) -> bool:
        """Store a new delivery; False when this event already has one for this recipient."""
        return await self._inserts.submit({**doc, **outbox_fields()})

    async def _insert_many(self, docs: Sequence[Mapping[str, Any]]) -> list[bool | BaseException]:
        """One unordered insert for deliveries stored at the same time; a duplicate is False."""
        try:
            await self.collection.insert_many([dict(doc) for doc in docs], ordered=False)
        except BulkWriteError as exc:
            if exc.details.get("writeConcernErrors"):
                raise
            outcomes: list[bool | BaseException] = [True] * len(docs)
            for error in exc.details.get("writeErrors", []):
                index, code = int(error["index"]), int(error.get("code", 0))
                outcomes[index] = False if code == DUPLICATE_KEY else OperationFailure(
                    str(error.get("errmsg", "write error")), code)
            return outcomes
        return [True] * len(docs)

    async def get(self, delivery_id: str) -> Document | None:
        return await self.collection.find_one({"_id": delivery_id})

    async def find_for(self, event_id: str, recipient: str) -> Document | None:
        return await self.collection.find_one({"event_id": event_id, "recipient": recipient})

    async def claim(self, delivery_id: str, *, claim_seconds: float) -> Document | None:
        """Take a due delivery for one sending attempt; None when it is not due or taken."""
        at = epoch()
        return await self.collection.find_one_and_update(
            {"_id": delivery_id, "status": {"$in": [s.value for s in OPEN_STATUSES]},
             "next_attempt_at": {"$lte": at}},
            {"$set": {"status": DeliveryStatus.SENDING.value, "updated_at": now(),
                      "next_attempt_at": at + claim_seconds},
             "$inc": {"attempts": 1, REV: 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def due_ids(self, *, limit: int) -> list[str]:
        docs = await self.collection.find(
            {"status": {"$in": [s.value for s in OPEN_STATUSES]}, "next_attempt_at": {"$lte": epoch()}},
            {"_id": 1},
        ).sort("next_attempt_at", ASCENDING).limit(limit).to_list()
        return [str(d["_id"]) for d in docs]

    async def update(self, current: Mapping[str, Any], changes: Mapping[str, Any],
                     events: Sequence[Event] = (), *, unset: Sequence[str] = ()) -> Document:
        """Raises StaleDocument when another writer changed the delivery since ``current``."""
        return await self.outbox.update(self.collection, current, {**changes, "updated_at": now()},
                                        events, unset=unset)

    async def record(self, current: Mapping[str, Any], changes: Mapping[str, Any],
                     events: Sequence[Event] = (), *, unset: Sequence[str] = ()) -> bool:
        """Store a sending attempt's outcome, written together with other outcomes of the moment;
        False when another writer changed the delivery since ``current``."""
        # the write's own id tells, after a bulk write that did not match every guard, which
        # outcomes are the stored ones
        stored = await self._replacements.submit(self.outbox.replacement(
            current, {**changes, "updated_at": now(), "write_id": os.urandom(8).hex()}, events, unset=unset))
        if events:
            self.outbox.wake_relay()
        return stored

    async def _replace_many(self, replacements: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> list[bool]:
        if len(replacements) == 1:
            [(guard, document)] = replacements
            return [(await self.collection.replace_one(guard, document)).matched_count == 1]
        result = await self.collection.bulk_write(
            [ReplaceOne(guard, document) for guard, document in replacements], ordered=False)
        if result.matched_count == len(replacements):
            return [True] * len(replacements)
        ids = [guard["_id"] for guard, _ in replacements]
        written = {doc["_id"]: doc.get("write_id")
                   async for doc in self.collection.find({"_id": {"$in": ids}}, {"write_id": 1})}
        return [written.get(document["_id"]) == document["write_id"] for _, document in replacements]

    async def erase_user(self, user_id: str) -> int:
        """Anonymise a deleted user's deliveries: the address, the name and any rendered body go."""
        result = await self.collection.update_many(
            {"user_id": user_id, "recipient": {"$ne": f"erased:{user_id}"}},
            {"$set": {"recipient": f"erased:{user_id}", "recipient_name": "", "subject": "",
                      "updated_at": now()},
             "$unset": {"context": ""}},
        )
        return int(result.modified_count)

    async def page(self, *, status: str | None, recipient: str | None, after: str | None,
                   limit: int) -> list[Document]:
        query: dict[str, Any] = {}
        if status:
            query["status"] = status
        if recipient:
            query["recipient"] = recipient
        if after:
            query["_id"] = {"$lt": after}
        return await self.collection.find(query, {"context": 0, "outbox": 0}).sort(
            "_id", DESCENDING).limit(limit).to_list()
