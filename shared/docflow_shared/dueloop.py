"""The due-work loop: attempts the work that is due (new, retrying, or claimed by a worker that
died), in every replica; the claim each attempt takes makes it one replica's.

Mail's retry loop and notify's webhook send loop are this loop over their delivery logs, each a
``DeliveryLog``: what is due, and the claim."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self, TypeVar

from bson.errors import InvalidDocument
from pydantic import model_validator
from pymongo import ASCENDING, IndexModel, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

from docflow_shared.batching import GroupCommit
from docflow_shared.errors import Conflict
from docflow_shared.events import Event
from docflow_shared.mongo import Document, SetTime, migrate_times, stored_datetime, utc_now
from docflow_shared.outbox import Outbox, Whole, inserted, outbox_fields, read_one, retry_stale
from docflow_shared.repository import Repository, Stored
from docflow_shared.stored import Created, OptionalStoredTime, Text

logger = logging.getLogger(__name__)

DUPLICATE_KEY = 11000
# raised for one document while a batch is encoded, before anything is sent: a ``GroupCommit``
# of ``insert_each`` or ``replace_each`` writes that batch again one by one (``own_errors``)
ENCODING_ERRORS: tuple[type[Exception], ...] = (InvalidDocument,)
# the times that schedule an entry, which queries compare (rewritten at start if once numbers)
SCHEDULE = ("next_attempt_at", "give_up_at")
# what tells, after a bulk replacement that did not match every guard, which documents were stored
WRITE_ID = "write_id"


@dataclass
class DueLoop:
    """Polls for due work every ``poll_seconds`` (or when woken) and attempts it, at most
    ``concurrency`` at a time. ``due(limit)`` lists the ids of due work, ``attempt(id)`` tries one;
    ``name`` names the task and, in logs, the loop and ``what`` it attempts."""

    due: Callable[[int], Awaitable[list[str]]]
    attempt: Callable[[str], Awaitable[object]]
    name: str
    what: str
    poll_seconds: float
    concurrency: int
    batch: int = 100
    _slots: asyncio.Semaphore = field(init=False)
    _wake: asyncio.Event = field(init=False, default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.concurrency)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        return asyncio.create_task(self.run(), name=self.name)

    async def run(self) -> None:
        while True:
            self._wake.clear()
            due = 0
            try:
                due = await self.pass_once()
            except PyMongoError as exc:
                logger.warning("%s cannot list the due %s: %r", self.name, self.what, exc)
            except Exception:
                logger.exception("%s pass failed", self.name)
            if due >= self.batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def pass_once(self) -> int:
        """Try every due piece of work once; returns how many were due."""
        ids = await self.due(self.batch)
        await asyncio.gather(*(self._attempt(work_id) for work_id in ids))
        return len(ids)

    async def _attempt(self, work_id: str) -> None:
        async with self._slots:
            try:
                await self.attempt(work_id)
            except PyMongoError as exc:
                logger.warning("%s %s not attempted: %r", self.what, work_id, exc)
            except Exception:
                logger.exception("%s %s attempt failed", self.what, work_id)


def retry_delay(attempts: int, *, base_seconds: float, max_seconds: float) -> float:
    """Seconds until the next attempt after ``attempts`` failed ones: ``base · 2^(n-1)``, at most
    ``max_seconds``, spread by ±20 % so that entries that failed together do not retry together."""
    delay = min(base_seconds * 2 ** max(attempts - 1, 0), max_seconds)
    return float(delay * random.uniform(0.8, 1.2))


class LogEntry(Stored, total=False):
    """What every entry of a ``DeliveryLog`` holds besides its own fields."""

    _id: str
    event_id: str  # the event it delivers
    event_type: str
    status: str  # the log's own statuses: ``open_statuses``, ``sending`` and the ends
    attempts: int
    next_attempt_at: datetime  # when it is due (or its claim ends, while it is attempted)
    give_up_at: datetime
    last_error: str | None
    write_id: str  # ``replace_each``
    created_at: datetime
    updated_at: SetTime  # a log may ``$set`` it in a mass change (mail's erasure)
    failed_at: datetime


class LogEntryRead(Created):
    """A ``LogEntry`` as the API shows it; each log's read model adds its own fields and declares
    its statuses. ``next_attempt_at`` is shown only while the entry is open (for a claimed one it
    is the claim's end, and for an ended one it means nothing)."""

    open_statuses: ClassVar[tuple[str, ...]] = ()

    event_id: str
    event_type: Text = ""
    status: str
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: OptionalStoredTime = None
    failed_at: OptionalStoredTime = None

    @model_validator(mode="after")
    def _due_only_while_open(self) -> Self:
        if self.status not in self.open_statuses:
            self.next_attempt_at = None
        return self


E = TypeVar("E", bound=LogEntry)


class DeliveryLog(Repository[E]):
    """The log a ``DueLoop`` runs over (mail's deliveries, notify's webhook deliveries): each
    entry is due at ``next_attempt_at``, a date queries compare, so it is written only by inserts
    and replacements under the revision guard (docs/architecture.md, "Times"). A subclass names
    its statuses: those still to be attempted (``open_statuses``), the one of a new or reopened entry
(``pending``) and the one of a claimed entry (``sending``)."""

    open_statuses: ClassVar[tuple[str, ...]]
    pending: ClassVar[str]
    sending: ClassVar[str]

    def __init__(self, collection: AsyncCollection[Document], outbox: Outbox | None = None, *, name: str) -> None:
        super().__init__(collection, outbox)
        # new entries and attempt outcomes stored at the same moment (the events of one prefetch,
        # the attempts of one pass) share a bulk write; each caller still waits for its own, so
        # an entry is stored before it is attempted and its outcome before its event is acknowledged
        self._inserts: GroupCommit[Mapping[str, Any], bool] = GroupCommit(
            self.insert_each, own_errors=ENCODING_ERRORS, name=f"{name}-inserts")
        self._outcomes: GroupCommit[tuple[dict[str, Any], dict[str, Any]], bool] = GroupCommit(
            self.replace_each, own_errors=ENCODING_ERRORS, name=f"{name}-outcomes")

    async def insert_each(self, documents: Sequence[Mapping[str, Any]]) -> list[bool | BaseException]:
        """Documents stored at the same moment (a ``GroupCommit`` batch) in one unordered insert;
        for each, True when stored, False for a duplicate key, else its own error."""
        try:
            await self.collection.insert_many([dict(document) for document in documents], ordered=False)
        except BulkWriteError as exc:
            if exc.details.get("writeConcernErrors"):
                raise
            outcomes: list[bool | BaseException] = [True] * len(documents)
            for error in exc.details.get("writeErrors", []):
                index, code = int(error["index"]), int(error.get("code", 0))
                outcomes[index] = False if code == DUPLICATE_KEY else OperationFailure(
                    str(error.get("errmsg", "write error")), code)
            return outcomes
        return [True] * len(documents)

    def replacement(self, current: Whole, changes: Mapping[str, Any], events: Sequence[Event] = (), *,
                    unset: Sequence[str] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
        """``update``'s guard and new document, for ``replace_each``: the new one carries a
        ``write_id`` of its own (wake the relay after storing events)."""
        return self.outbox.replacement(current, {**changes, WRITE_ID: os.urandom(8).hex()}, events, unset=unset)

    async def replace_each(self, replacements: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> list[bool]:
        """``replacement``s made at the same moment (a ``GroupCommit`` batch) in one unordered bulk
        write; for each, False when another writer changed the document since it was read."""
        if len(replacements) == 1:
            [(guard, document)] = replacements
            return [(await self.collection.replace_one(guard, document)).matched_count == 1]
        result = await self.collection.bulk_write(
            [ReplaceOne(guard, document) for guard, document in replacements], ordered=False)
        if result.matched_count == len(replacements):
            return [True] * len(replacements)
        ids = [guard["_id"] for guard, _ in replacements]
        written = {doc["_id"]: doc.get(WRITE_ID)
                   async for doc in self.collection.find({"_id": {"$in": ids}}, {WRITE_ID: 1})}
        return [written.get(document["_id"]) == document[WRITE_ID] for _, document in replacements]

    async def insert(self, entry: Mapping[str, Any]) -> bool:
        """Store a new entry; False when it is there already (a redelivered event)."""
        return await self._inserts.submit(self.as_inserted(entry))

    async def record(self, current: Whole, changes: Mapping[str, Any], events: Sequence[Event] = (), *,
                     unset: Sequence[str] = ()) -> bool:
        """Store an attempt's outcome with its events; False when another writer changed the entry
        since ``current`` (its claim lapsed and another worker took it over, say)."""
        stored = await self._outcomes.submit(
            self.replacement(current, {**changes, "updated_at": utc_now()}, events, unset=unset))
        if events:
            self.outbox.wake_relay()
        return stored

    @staticmethod
    def as_inserted(entry: Mapping[str, Any]) -> Whole:
        """The entry as it is inserted, to attempt right after storing it."""
        return inserted({**entry, **outbox_fields()})

    async def prepare(self, *indexes: IndexModel) -> None:
        """At start: schedule times once stored as epoch seconds become dates, then the index the
        due query uses and the log's own ``indexes``."""
        await migrate_times(self.collection, SCHEDULE)
        await self.collection.create_indexes([
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"), *indexes])

    async def reopen(self, current: Whole, *, keep_seconds: float) -> Whole | None:
        """``current`` due again now, with fresh attempts and ``keep_seconds`` of retries (an
        attempt by hand); None while a sender's claim on it lasts. Raises ``StaleDocument`` when
        another writer changed it since it was read."""
        at = utc_now()
        claim_ends = stored_datetime(current.get("next_attempt_at"))
        if current.get("status") == self.sending and claim_ends is not None and claim_ends > at:
            return None
        return await self.update(current, {
            "status": self.pending, "attempts": 0, "next_attempt_at": at,
            "give_up_at": at + timedelta(seconds=keep_seconds), "updated_at": at})

    @staticmethod
    def retry_at(entry: Mapping[str, Any], *, base_seconds: float, max_seconds: float) -> datetime | None:
        """When to attempt ``entry`` again after its failed attempt (``retry_delay`` from now), or
        None when that would come after its ``give_up_at``: it has run out of time."""
        at = utc_now() + timedelta(seconds=retry_delay(
            int(entry.get("attempts", 1) or 1), base_seconds=base_seconds, max_seconds=max_seconds))
        give_up_at = stored_datetime(entry.get("give_up_at"))
        return None if give_up_at is None or at > give_up_at else at

    async def due_ids(self, *, limit: int) -> list[str]:
        docs = await self.collection.find(
            {"status": {"$in": list(self.open_statuses)}, "next_attempt_at": {"$lte": utc_now()}},
            {"_id": 1}).sort("next_attempt_at", ASCENDING).limit(limit).to_list()
        return [str(doc["_id"]) for doc in docs]

    async def claim(self, entry_id: str, *, claim_seconds: float) -> Whole | None:
        """Take a due entry for one attempt, until ``claim_seconds`` from now; None when it is not
        due or another worker has it."""

        async def attempt() -> Whole | None:
            at = utc_now()
            current = await read_one(self.collection, {
                "_id": entry_id, "status": {"$in": list(self.open_statuses)}, "next_attempt_at": {"$lte": at}})
            if current is None:
                return None
            return await self.outbox.update(self.collection, current, {
                "status": self.sending, "updated_at": at, "next_attempt_at": at + timedelta(seconds=claim_seconds),
                "attempts": int(current.get("attempts", 0) or 0) + 1})

        try:
            return await retry_stale(attempt)
        except Conflict:
            return None  # changed over and over meanwhile: taken, or due again at the next pass
