"""MongoDB helpers: the client factory, idempotent event handling, how times are stored, and the
one place for what the embedded MongoDB-wire server (nx-27017) does differently.

Every quirk handled here names the test in ``tests/compat/test_mongo_operations.py`` that pins
it; that file runs against real MongoDB too, so the code written against this module is plain
MongoDB 7 code. The quirks, and the rule DocFlow keeps for each:

* a date written by an update operator (``$set``, ``$min``/``$max``, an upsert through
  ``find_one_and_update``) is stored as text, and ``$currentDate`` writes one that no query
  matches: a time that a query compares is written by an insert or a whole-document replacement,
  a time only read back may be ``$set``, and every stored time is read with ``stored_datetime``
  (``TestDates``);
* a boolean written by ``$set`` comes back as an integer that still matches a boolean query:
  read flags with ``bool()`` (``test_boolean_written_by_update_matches_a_boolean_query``);
* ``$type`` takes no list, ``$not`` is not implemented and ``"double"`` matches integers:
  ``migrate_times`` asks one type at a time (``test_older_time_forms_are_found_one_type_at_a_time``);
* ``find_one_and_update`` with ``upsert`` drops ``$setOnInsert`` fields: ``count_in_window``
  inserts a new counter itself (``test_a_window_counter_keeps_its_expiry_a_date``);
* ``$or`` in an update's filter reports a match and writes nothing next to a tombstone:
  ``update_first`` tries the alternatives one by one (``test_a_second_clock_beside_a_tombstone``);
* a partial filter on a flag is ignored: ``unique_when_set``
  (``test_unique_among_a_subset_through_a_field_only_it_carries``);
* indexes are named after their keys whatever name was asked for: ``ensure_index`` and
  ``drop_unique_index`` (``test_an_index_on_the_same_key_under_another_name_serves``,
  ``test_unique_index_dropped_by_its_listed_name``);
* TTL expiry is changed by ``create_index`` rather than ``collMod``, and applied when a
  collection is read: ``ensure_expiry`` (``TestExpiry``);
* objects added by ``$push`` are stringified: DocFlow never uses ``$push`` and rewrites the outbox
  by replacement (``test_guarded_set_of_a_list_of_objects_keeps_them_objects``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from docflow_shared.events import Event

logger = logging.getLogger(__name__)

Document = dict[str, Any]

# The soft-delete filter: a document is live until ``deleted_at`` holds a time. Equality with
# null matches both a null and a missing field, on MongoDB and on the embedded server alike
# (tests/compat: test_the_soft_delete_filter_matches_null_and_missing).
# Spread it into a query: ``{"owner_id": owner_id, **NOT_DELETED}``.
NOT_DELETED: Mapping[str, Any] = MappingProxyType({"deleted_at": None})


INDEX_OPTIONS_CONFLICT = 85
# long enough to outlast every redelivery: retry queues, a DLQ replayed days later, a restore
PROCESSED_EVENTS_TTL_SECONDS = 14 * 24 * 3600


# --- times: BSON dates (UTC, milliseconds), read back aware (``create_client``); older forms are
# rewritten at start where queried (``migrate_times``), else read by ``stored_datetime`` ("Times").


def utc_now() -> datetime:
    """Now as a BSON date keeps it (UTC, to the millisecond), so that the value kept in memory is
    the one read back and can guard a later write."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def event_clock(at: datetime) -> int:
    """A newer-wins clock from an event's ``occurred_at``: integer microseconds since the epoch.

    A counter, not a time: a BSON date keeps milliseconds only, and two events about one record
    within one millisecond must still order. Writers compare it with ``$lte``: of two equal
    clocks the one handled last wins."""
    return int(at.timestamp() * 1_000_000)


# A time ``$set`` wrote: a BSON date on MongoDB, ISO text here (the test named below); readers
# go through ``stored_datetime``. Times that queries compare are inserted or replaced whole.
SetTime = datetime | str


def stored_datetime(value: object) -> datetime | None:
    """A stored time as an aware UTC datetime: a BSON date, ISO text (older documents, and dates
    ``$set`` on the embedded server) or epoch seconds, milliseconds or microseconds, told apart by
    size (older ones); None if absent or unreadable (``test_a_date_set_by_an_update_reads_back_as_the_same_moment``)."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, int | float):
        unit = 1e6 if abs(value) >= 1e14 else 1e3 if abs(value) >= 1e11 else 1.0  # µs, ms or s
        return datetime.fromtimestamp(float(value) / unit, UTC)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def migrate_times(collection: AsyncCollection[Document], fields: Sequence[str],
                        twins: Mapping[str, str] | None = None) -> int:
    """Rewrite, once, the documents whose ``fields`` still hold a time as ISO text or epoch
    seconds, into BSON dates; ``twins`` maps a field to a numeric copy once kept beside it
    (``expires_ts``), which fills the field in when needed and is dropped. Returns how many
    documents were rewritten.

    Each is replaced whole, guarded by the values read and its ``outbox_rev`` (so a concurrent
    writer wins, and its version is already new), with ``outbox_rev`` raised so a writer holding
    the older copy re-reads. ``$type`` is asked one type at a time, ``"string"`` then ``"number"``
    (``test_older_time_forms_are_found_one_type_at_a_time``).
    """
    twins = dict(twins or {})
    selectors: list[dict[str, Any]] = [{field: {"$type": kind}} for field in fields for kind in ("string", "number")]
    selectors += [{twin: {"$exists": True}} for twin in twins.values()]
    rewritten = 0
    for selector in selectors:
        async for doc in collection.find(selector):
            guarded = (*fields, *twins.values(), "outbox_rev")
            guard = {"_id": doc["_id"], **{f: doc[f] for f in guarded if f in doc}}
            new = dict(doc)
            for field in fields:
                twin = twins.get(field)
                at = stored_datetime(new.get(field)) or (stored_datetime(new.get(twin)) if twin else None)
                if at is not None:
                    new[field] = at
                if twin:
                    new.pop(twin, None)
            if "outbox_rev" in new:
                new["outbox_rev"] = int(new["outbox_rev"] or 0) + 1
            rewritten += (await collection.replace_one(guard, new)).modified_count
    return rewritten


async def count_in_window(collection: AsyncCollection[Document], key: str, expires_at: datetime,
                          field: str = "count") -> int:
    """Raise the counter ``key`` by one and return it; a new counter carries ``expires_at``, the
    date its TTL index removes it by.

    An ``$inc`` of the counter, else an insert of a new one: MongoDB would also take one
    ``find_one_and_update`` with ``upsert`` and ``$setOnInsert``, but the embedded server drops
    ``$setOnInsert`` fields on that path (and keeps dates ``$set`` there as text), so the
    counter would never expire (``test_a_window_counter_keeps_its_expiry_a_date``)."""
    for _ in range(2):
        doc = await collection.find_one_and_update({"_id": key}, {"$inc": {field: 1}},
                                                   return_document=ReturnDocument.AFTER)
        if doc is not None:
            return int(doc[field])
        try:
            await collection.insert_one({"_id": key, field: 1, "expires_at": expires_at})
            return 1
        except DuplicateKeyError:
            continue  # another writer created it meanwhile: count on theirs
    return 1


async def update_first(collection: AsyncCollection[Document], filters: Sequence[Mapping[str, Any]],
                       update: Mapping[str, Any]) -> bool:
    """Apply ``update`` to the document the first of ``filters`` matches; False when none does.

    What ``{"$or": filters}`` says, asked one alternative at a time: the embedded server answers
    an update filtered by ``$or`` with a match and no write when a tombstone shares the
    collection (``test_a_second_clock_beside_a_tombstone``)."""
    for where in filters:
        if (await collection.update_one(where, update)).matched_count:
            return True
    return False


def unique_when_set(field: str) -> dict[str, Any]:
    """``create_index`` options for a value unique among the documents that have it. The embedded
    server ignores ``partialFilterExpression`` (only documents without the field may share it),
    so "unique among a subset" is a field only that subset carries; the filter says the same."""
    return {"unique": True, "partialFilterExpression": {field: {"$type": "string"}}}


def create_client(url: str, *, timeout_ms: int = 3000) -> AsyncMongoClient[Document]:
    """A client that fails fast when the server is unreachable (so requests answer 503), and
    reads BSON dates back as aware UTC datetimes (``tz_aware``)."""
    return AsyncMongoClient(
        url, tz_aware=True, uuidRepresentation="standard", serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms, socketTimeoutMS=max(timeout_ms * 5, 15000), appname="docflow",
    )


async def ping(client: AsyncMongoClient[Document]) -> bool:
    try:
        await asyncio.wait_for(client.admin.command("ping"), 2)
        return True
    except (PyMongoError, TimeoutError):
        return False


async def ensure_indexes_forever(
    create: Callable[[], Awaitable[None]], *, first_timeout: float = 10.0
) -> asyncio.Task[None] | None:
    """Create indexes now; if the database is down, keep trying in the background."""

    async def attempt_forever() -> None:
        delay = 1.0
        while True:
            try:
                await create()
                logger.info("indexes ready")
                return
            except PyMongoError as exc:
                logger.warning("index creation failed (%r); retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)

    try:
        await asyncio.wait_for(create(), first_timeout)
        return None
    except (PyMongoError, TimeoutError):
        return asyncio.create_task(attempt_forever(), name="ensure-indexes")


async def ensure_index(collection: AsyncCollection[Document], field: str) -> None:
    """An ascending index on ``field`` named after it; one that already exists on the same key
    under another name (IndexOptionsConflict on MongoDB) serves as well."""
    try:
        await collection.create_index([(field, ASCENDING)], name=field)
    except OperationFailure as exc:
        if exc.code != INDEX_OPTIONS_CONFLICT:
            raise


async def drop_unique_index(collection: AsyncCollection[Document], field: str) -> None:
    """Drop the unique index on ``field`` alone, found by its key and dropped by the name the
    server lists (the embedded server names indexes after their keys)."""
    async for index in await collection.list_indexes():
        if dict(index["key"]) == {field: 1} and index.get("unique"):
            await collection.drop_index(index["name"])


async def ensure_expiry(collection: AsyncCollection[Document], field: str, seconds: int) -> None:
    """A TTL index: documents go once ``field`` (a BSON date) is ``seconds`` old.

    MongoDB refuses to create the index again with another expiry, or over a plain index on the
    field (IndexOptionsConflict), and changes it with ``collMod``. The embedded server takes the
    new expiry from ``create_index`` itself, answers ``collMod`` without applying it, and purges
    expired documents when the collection is read rather than in a background pass.
    """
    try:
        await collection.create_index([(field, ASCENDING)], expireAfterSeconds=seconds)
    except OperationFailure as exc:
        if exc.code != INDEX_OPTIONS_CONFLICT:
            raise
        await collection.database.command(
            {"collMod": collection.name, "index": {"keyPattern": {field: 1}, "expireAfterSeconds": seconds}}
        )


class ProcessedEvents:
    """Remembers which events a consumer has handled, so a redelivery has no second effect.

    Each mark expires after ``ttl_seconds`` (``PROCESSED_EVENTS_TTL_SECONDS``): the collection
    would otherwise grow with every event ever handled."""

    def __init__(self, db: AsyncDatabase[Document], consumer: str, *,
                 ttl_seconds: int = PROCESSED_EVENTS_TTL_SECONDS) -> None:
        self.collection = db["processed_events"]
        self.consumer = consumer
        self.ttl_seconds = ttl_seconds

    async def create_indexes(self) -> None:
        await ensure_expiry(self.collection, "at", self.ttl_seconds)

    def _key(self, event: Event) -> str:
        return f"{self.consumer}:{event.id}"

    async def seen(self, event: Event) -> bool:
        return await self.collection.find_one({"_id": self._key(event)}, {"_id": 1}) is not None

    async def mark(self, event: Event) -> None:
        # ``at`` must stay a BSON date written by an insert: the TTL index expires by it
        try:
            await self.collection.insert_one(
                {"_id": self._key(event), "type": event.type, "at": utc_now()}
            )
        except DuplicateKeyError:
            pass

    async def run_once(self, event: Event, work: Callable[[], Awaitable[None]]) -> bool:
        """Run ``work`` unless this event was handled before; True when it ran.

        ``work`` must itself be safe to repeat: a crash between it and the mark re-runs it.
        """
        if await self.seen(event):
            return False
        await work()
        await self.mark(event)
        return True
