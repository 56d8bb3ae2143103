"""The transactional outbox of DESIGN.md, Reliability rule 1.

A state change and the events announcing it are written by one single-document update: the
events ride in the changed document's ``outbox`` list, flagged by ``outbox_pending`` and
guarded by the ``outbox_rev`` counter. The relay publishes them with confirms and clears them
by ``outbox_rev``; a retry may re-publish, consumers are idempotent.

A change replaces the whole document under an ``outbox_rev`` guard (optimistic concurrency)
rather than using ``$push``/``$set``: that is correct on every MongoDB-compatible server, keeps
every value's type, and stops two writers from losing each other's change.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from pymongo import DeleteOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import ConnectionFailure

from docflow_shared.bus import BrokerUnavailable, EventBus
from docflow_shared.errors import Conflict
from docflow_shared.events import Event

logger = logging.getLogger(__name__)

T = TypeVar("T")

PENDING = "outbox_pending"
REV = "outbox_rev"
OUTBOX = "outbox"
PURGE = "purge_when_published"


class StaleDocument(Exception):
    """The document changed between read and write; re-read and apply the change again."""


def outbox_fields(*events: Event) -> dict[str, Any]:
    """Fields a new document carries so that its creation events go out with it."""
    return {OUTBOX: [e.to_document() for e in events], PENDING: bool(events), REV: 0}


class Outbox:
    """Writes documents together with their events and wakes the relay."""

    def __init__(self, relay: OutboxRelay | None = None) -> None:
        self._relay = relay

    def _wake(self) -> None:
        if self._relay is not None:
            self._relay.wake()

    async def insert(self, collection: AsyncCollection[Any], document: Mapping[str, Any],
                     events: Sequence[Event] = ()) -> None:
        await collection.insert_one({**document, **outbox_fields(*events)})
        if events:
            self._wake()

    async def update(
        self,
        collection: AsyncCollection[Any],
        current: Mapping[str, Any],
        changes: Mapping[str, Any],
        events: Sequence[Event] = (),
        *,
        unset: Sequence[str] = (),
        purge_when_published: bool = False,
    ) -> dict[str, Any]:
        """Apply ``changes`` (keys may be dotted paths) to ``current``, with ``events``, atomically.

        ``current`` must be the whole document as read (no projection): the new version replaces
        it under the ``outbox_rev`` guard. A replacement keeps every value's BSON type on every
        MongoDB-compatible server (``$set`` on the embedded server stores dates as strings and
        booleans as integers). Raises StaleDocument if the document changed since it was read.
        """
        guard, document = self.replacement(current, changes, events, unset=unset,
                                           purge_when_published=purge_when_published)
        result = await collection.replace_one(guard, document)
        if result.matched_count == 0:
            raise StaleDocument(str(current["_id"]))
        if events:
            self._wake()
        return document

    @staticmethod
    def replacement(
        current: Mapping[str, Any],
        changes: Mapping[str, Any],
        events: Sequence[Event] = (),
        *,
        unset: Sequence[str] = (),
        purge_when_published: bool = False,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The filter and the new document of ``update``, for callers that write several
        documents in one bulk write (then call ``wake_relay`` when events were added)."""
        rev = int(current.get(REV, 0) or 0)
        fields: dict[str, Any] = dict(changes)
        fields[REV] = rev + 1
        if events:
            fields[OUTBOX] = list(current.get(OUTBOX) or []) + [e.to_document() for e in events]
            fields[PENDING] = True
        if purge_when_published:
            fields[PURGE] = True
        document = copy.deepcopy(dict(current))
        for path in unset:
            _unset_path(document, path)
        for path, value in fields.items():
            _set_path(document, path, value)
        return {"_id": current["_id"], REV: rev}, document

    def wake_relay(self) -> None:
        """Tell the relay that events were written outside ``insert``/``update``."""
        self._wake()


def _set_path(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = document
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[leaf] = value


def _unset_path(document: dict[str, Any], path: str) -> None:
    *parents, leaf = path.split(".")
    node: Any = document
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(leaf, None)


async def retry_stale(operation: Callable[[], Awaitable[T]], attempts: int = 8) -> T:
    """Run a read-modify-write operation again while it loses the race to another writer."""
    for attempt in range(attempts):
        try:
            return await operation()
        except StaleDocument:
            await asyncio.sleep(0.005 * (attempt + 1))
    raise Conflict("The resource is being changed by another request; try again.")


class OutboxRelay:
    """Publishes pending outbox events and clears them; runs in every producing service."""

    def __init__(
        self,
        bus: EventBus,
        collections: Sequence[AsyncCollection[Any]],
        *,
        poll_seconds: float = 1.0,
        batch: int = 200,
    ) -> None:
        self.bus = bus
        self.collections = list(collections)
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.drain()
            except BrokerUnavailable as exc:
                logger.info("outbox waits for the broker: %s", exc)
            except ConnectionFailure as exc:
                logger.warning("outbox waits for the database: %s", type(exc).__name__)
            except Exception:
                logger.exception("outbox relay pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def drain(self) -> int:
        """Publish every pending event once; returns how many were published."""
        published = 0
        for collection in self.collections:
            while True:
                docs = await collection.find(
                    {PENDING: True}, {OUTBOX: 1, REV: 1, PURGE: 1}
                ).limit(self.batch).to_list()
                if not docs:
                    break
                published += await self._flush_batch(collection, docs)
                if len(docs) < self.batch:
                    break
        return published

    async def _flush_batch(self, collection: AsyncCollection[Any], docs: Sequence[Mapping[str, Any]]) -> int:
        """Publish the documents' events (in order within a document, documents side by side),
        then clear every published document in one bulk write."""
        outcomes = await asyncio.gather(*(self._publish(doc) for doc in docs), return_exceptions=True)
        done = [(doc, sent) for doc, sent in zip(docs, outcomes, strict=True) if isinstance(sent, set)]
        if done:
            await self._clear(collection, done)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return sum(len(sent) for _doc, sent in done)

    async def _publish(self, doc: Mapping[str, Any]) -> set[str]:
        events = [Event.model_validate(e) for e in doc.get(OUTBOX) or []]
        for event in events:
            await self.bus.publish(event)
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
                                            {"$set": {OUTBOX: [], PENDING: False, REV: rev + 1}}))
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
                    {"$set": {OUTBOX: remaining, PENDING: bool(remaining), REV: rev + 1}},
                )
                if cleared.matched_count:
                    break
            current = await collection.find_one({"_id": current["_id"]}, {OUTBOX: 1, REV: 1, PURGE: 1})
