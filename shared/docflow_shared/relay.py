"""The outbox relay (docs/architecture.md, "Reliability rules", rule 1): publishes the events
that ``docflow_shared.outbox`` wrote into documents, with confirms, and clears them by
``outbox_rev``. Every replica of a service runs one; a relay claims a document (a lease under
the revision guard) before publishing its events, so two live relays never publish the same
entry (docs/architecture.md, "Replicas"). A relay that dies between publishing and clearing
leaves its entries to be published again once its lease ends; consumers are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import DeleteOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import ConnectionFailure, PyMongoError

from docflow_shared.broker import BrokerUnavailable
from docflow_shared.bus import EventBus
from docflow_shared.events import Event
from docflow_shared.metrics import OUTBOX_OLDEST_AGE, OUTBOX_PENDING
from docflow_shared.mongo import ensure_index, stored_datetime, utc_now
from docflow_shared.outbox import OUTBOX, PENDING, PURGE, REV
from docflow_shared.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

# pending documents read to find the oldest unpublished event: a backlog larger than this one is
# already an alert, and its age is then that of the oldest among them
BACKLOG_SAMPLE = 500
# A backup pauses the relays of every service database while it reads them: a document
# {"_id": "backup", "until": <time>} here (docs/architecture.md, "Backup and restore").
PAUSE = "outbox_pause"
PAUSE_ID = "backup"
PAUSE_CHECK_SECONDS = 0.5  # well within the time a backup gives passes under way to end
# A relay's claim on a document: who holds it, and until when (epoch milliseconds, an integer so
# that update operators keep its type on every server). Another relay takes the document only
# after that time. The holder starts no publish after LEASE_PUBLISH_SECONDS, and a publish waits
# at most PUBLISH_TIMEOUT_SECONDS for its confirm: it is over before the lease ends, so two live
# relays never publish one entry (replica clocks must agree within the difference, 5 s).
LEASE = "outbox_lease"
LEASE_UNTIL = "outbox_lease_until"
LEASE_SECONDS = 30.0
LEASE_PUBLISH_SECONDS = 15.0
PUBLISH_TIMEOUT_SECONDS = 10.0


class LeaseRunningOut(Exception):
    """The claim is too close to its end to start another publish; the next pass claims again."""


def _lease_ended(until: object, now: datetime) -> bool:
    """Whether a lease's end (a date the claim's ``$set`` wrote, so read by ``stored_datetime``,
    which reads the epoch milliseconds of leases taken before too) has passed."""
    end = stored_datetime(until)
    return end is None or end < now


async def paused(collection: AsyncCollection[Any]) -> bool:
    """A backup's pause on this collection's database, until its time limit (so that a backup
    that died cannot hold the events back for good)."""
    pause = await collection.database[PAUSE].find_one({"_id": PAUSE_ID})
    until = stored_datetime(pause.get("until")) if pause else None
    return until is not None and until > utc_now()



class OutboxRelay:
    """Publishes pending outbox events and clears them; runs in every producing service."""

    def __init__(
        self,
        bus: EventBus,
        collections: Sequence[AsyncCollection[Any]],
        *,
        poll_seconds: float = 1.0,
        batch: int = 200,
        backlog_seconds: float | None = None,
    ) -> None:
        self.bus = bus
        self.collections = list(collections)
        self.poll_seconds = poll_seconds
        self.batch = batch
        # how often a pass also measures the backlog for the metrics; None: never
        self.backlog_seconds = backlog_seconds
        self._measured_at = float("-inf")
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._pauses: dict[str, tuple[float, bool]] = {}  # by database: when checked, paused
        self.relay_id = uuid.uuid4().hex  # this relay's name on the documents it claims

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, timeout: float = 2.0) -> None:
        self._stopping = True
        if self._task is not None:
            await cancel_and_wait([self._task], timeout)

    async def ensure_indexes(self) -> bool:
        """The ``outbox_pending`` index every pass queries, on each polled collection: the relay
        creates what it needs, so no service can leave it out. False when the database is not
        reachable yet (the next pass tries again)."""
        try:
            for collection in self.collections:
                await ensure_index(collection, PENDING)
        except PyMongoError as exc:
            logger.warning("outbox index not created yet: %s", type(exc).__name__)
            return False
        return True

    async def _run(self) -> None:
        indexed = False
        # a cancellation lost inside a driver call must not keep the loop going: the flag ends it
        while not self._stopping:
            self._wake.clear()
            indexed = indexed or await self.ensure_indexes()
            try:
                await self.drain()
            except BrokerUnavailable as exc:
                logger.info("outbox waits for the broker: %s", exc)
            except ConnectionFailure as exc:
                logger.warning("outbox waits for the database: %s", type(exc).__name__)
            except Exception:
                logger.exception("outbox relay pass failed")
            await self._measure_when_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def _measure_when_due(self) -> None:
        if self.backlog_seconds is None or time.monotonic() - self._measured_at < self.backlog_seconds:
            return
        self._measured_at = time.monotonic()
        try:
            await self.measure_backlog()
        except PyMongoError as exc:
            logger.info("outbox backlog not measured: %s", type(exc).__name__)

    async def measure_backlog(self) -> None:
        """Set the metrics of each collection: documents with unpublished events, and the age
        of the oldest such event (0 when nothing waits)."""
        now = utc_now()
        for collection in self.collections:
            pending = await collection.count_documents({PENDING: True})
            oldest: datetime | None = None
            if pending:
                async for doc in collection.find({PENDING: True}, {OUTBOX: 1}).limit(BACKLOG_SAMPLE):
                    for entry in doc.get(OUTBOX) or []:
                        at = _occurred_at(entry)
                        if at is not None and (oldest is None or at < oldest):
                            oldest = at
            OUTBOX_PENDING.labels(self.bus.service, collection.name).set(pending)
            age = (now - oldest).total_seconds() if oldest is not None else 0.0
            OUTBOX_OLDEST_AGE.labels(self.bus.service, collection.name).set(max(age, 0.0))

    async def drain(self) -> int:
        """Publish every pending event once; returns how many were published. Nothing is
        published while a backup has paused this service's relays."""
        published = 0
        for collection in self.collections:
            while True:
                if await self._paused(collection):
                    logger.info("outbox paused while a backup reads the database")
                    return published
                found = await collection.find(
                    {PENDING: True}, {OUTBOX: 1, REV: 1, PURGE: 1, LEASE: 1, LEASE_UNTIL: 1}
                ).limit(self.batch).to_list()
                if not found:
                    break
                docs, deadline = await self._claim(collection, found)
                if docs:
                    published += await self._flush_batch(collection, docs, deadline)
                if len(found) < self.batch:
                    break
        return published

    async def _claim(self, collection: AsyncCollection[Any], found: Sequence[Mapping[str, Any]]
                     ) -> tuple[list[Mapping[str, Any]], float]:
        """The documents this relay now holds, as they are after the claim, and the monotonic
        time after which it starts no publish. A document is claimed when its lease is free,
        ended or this relay's, under the revision read: a relay that claimed it since then, or a
        writer, moved the revision, and the claim misses (the writer's replacement keeps the
        lease, since it starts from the whole document)."""
        now = utc_now()
        deadline = time.monotonic() + LEASE_PUBLISH_SECONDS
        claims = [
            UpdateOne({"_id": doc["_id"], REV: int(doc.get(REV, 0) or 0)},
                      {"$set": {LEASE: self.relay_id, LEASE_UNTIL: now + timedelta(seconds=LEASE_SECONDS),
                                REV: int(doc.get(REV, 0) or 0) + 1}})
            for doc in found
            if doc.get(LEASE) in (None, self.relay_id) or _lease_ended(doc.get(LEASE_UNTIL), now)
        ]
        if not claims:
            return [], deadline
        result = await collection.bulk_write(claims, ordered=False)
        if not result.modified_count:
            return [], deadline
        ids = [doc["_id"] for doc in found]
        held = await collection.find({"_id": {"$in": ids}, LEASE: self.relay_id, PENDING: True},
                                     {OUTBOX: 1, REV: 1, PURGE: 1}).to_list()
        return held, deadline

    async def _paused(self, collection: AsyncCollection[Any]) -> bool:
        """``paused``, asked at most every ``PAUSE_CHECK_SECONDS`` per database: a relay woken by
        every write does not double its queries."""
        name = collection.database.name
        checked, answer = self._pauses.get(name, (float("-inf"), False))
        if time.monotonic() - checked >= PAUSE_CHECK_SECONDS:
            answer = await paused(collection)
            self._pauses[name] = (time.monotonic(), answer)
        return answer

    async def _flush_batch(self, collection: AsyncCollection[Any], docs: Sequence[Mapping[str, Any]],
                           deadline: float | None = None) -> int:
        """Publish the claimed documents' events (in order within a document, documents side by
        side), then clear every published document in one bulk write."""
        deadline = time.monotonic() + LEASE_PUBLISH_SECONDS if deadline is None else deadline
        outcomes = await asyncio.gather(*(self._publish(doc, deadline) for doc in docs), return_exceptions=True)
        done = [(doc, sent) for doc, sent in zip(docs, outcomes, strict=True) if isinstance(sent, set)]
        if done:
            await self._clear(collection, done)
        for outcome in outcomes:
            if isinstance(outcome, LeaseRunningOut):
                logger.info("outbox lease running out; the next pass claims again")
            elif isinstance(outcome, BaseException):
                raise outcome
        return sum(len(sent) for _doc, sent in done)

    async def _publish(self, doc: Mapping[str, Any], deadline: float) -> set[str]:
        events = [Event.model_validate(e) for e in doc.get(OUTBOX) or []]
        for event in events:
            if time.monotonic() > deadline:
                raise LeaseRunningOut(str(doc["_id"]))
            await self.bus.publish(event, timeout=PUBLISH_TIMEOUT_SECONDS)
        return {str(e.id) for e in events}

    async def _clear(self, collection: AsyncCollection[Any],
                     done: Sequence[tuple[Mapping[str, Any], set[str]]]) -> None:
        """Clear the published events by ``outbox_rev``; a document that changed meanwhile is
        re-read and cleared on its own."""
        operations: list[UpdateOne | DeleteOne] = []
        for doc, _sent in done:
            rev = int(doc.get(REV, 0) or 0)
            if doc.get(PURGE):
                operations.append(DeleteOne({"_id": doc["_id"], REV: rev}))
            else:
                operations.append(UpdateOne({"_id": doc["_id"], REV: rev},
                                            {"$set": {OUTBOX: [], PENDING: False, REV: rev + 1},
                                             "$unset": {LEASE: "", LEASE_UNTIL: ""}}))
        result = await collection.bulk_write(operations, ordered=False)
        if result.matched_count + result.deleted_count == len(operations):
            return
        sent_by_id = {doc["_id"]: sent for doc, sent in done}
        async for current in collection.find({"_id": {"$in": list(sent_by_id)}}, {OUTBOX: 1, REV: 1, PURGE: 1}):
            sent = sent_by_id[current["_id"]]
            if any(str(e.get("id")) in sent for e in current.get(OUTBOX) or []):
                await self._clear_one(collection, current, sent)

    async def _clear_one(self, collection: AsyncCollection[Any], doc: Mapping[str, Any], sent: set[str]) -> None:
        current: Mapping[str, Any] | None = doc
        while current is not None:
            rev = int(current.get(REV, 0) or 0)
            remaining = [e for e in current.get(OUTBOX) or [] if str(e.get("id")) not in sent]
            if not remaining and current.get(PURGE):
                deleted = await collection.delete_one({"_id": current["_id"], REV: rev})
                if deleted.deleted_count:
                    break
            else:
                cleared = await collection.update_one(
                    {"_id": current["_id"], REV: rev},
                    {"$set": {OUTBOX: remaining, PENDING: bool(remaining), REV: rev + 1},
                     "$unset": {LEASE: "", LEASE_UNTIL: ""}},
                )
                if cleared.matched_count:
                    break
            current = await collection.find_one({"_id": current["_id"]}, {OUTBOX: 1, REV: 1, PURGE: 1})


def _occurred_at(entry: Mapping[str, Any]) -> datetime | None:
    return stored_datetime(entry.get("occurred_at"))
