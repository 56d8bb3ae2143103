"""The transactional outbox (docs/architecture.md, "Reliability rules", rule 1).

A state change and the events announcing it are written by one single-document update: the
events ride in the changed document's ``outbox`` list, flagged by ``outbox_pending`` and
guarded by the ``outbox_rev`` counter. The relay publishes them with confirms and clears them
by ``outbox_rev`` (``docflow_shared.relay``); a retry may re-publish, consumers are idempotent.

A change replaces the whole document under an ``outbox_rev`` guard (optimistic concurrency)
rather than using ``$push``/``$set``: that is correct on every MongoDB-compatible server, keeps
every value's type, and stops two writers from losing each other's change.

Because the new version is built from the version read, that read must be whole: ``update``
takes only a ``Whole``, which only the readers here make, and they take no projection. A copy
read with a projection (or rebuilt by hand) is refused, so it cannot replace a stored record.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from docflow_shared.errors import Conflict
from docflow_shared.events import Event

if TYPE_CHECKING:
    from docflow_shared.relay import OutboxRelay

T = TypeVar("T")

PENDING = "outbox_pending"
REV = "outbox_rev"
OUTBOX = "outbox"
PURGE = "purge_when_published"

_READER = object()


class Whole(dict[str, Any]):
    """A document as stored, every field of it: the only kind ``Outbox.update`` replaces.

    Made only by the readers below (and returned by ``update``), none of which takes a
    projection; building one elsewhere raises TypeError.
    """

    __slots__ = ()

    def __init__(self, document: Mapping[str, Any], *, _reader: object = None) -> None:
        if _reader is not _READER:
            raise TypeError("a Whole document comes only from a read without projection")
        super().__init__(document)


def _whole(document: Mapping[str, Any] | None) -> Whole | None:
    return None if document is None else Whole(document, _reader=_READER)


def inserted(document: Mapping[str, Any]) -> Whole:
    """A document exactly as its writer has just inserted it (outbox fields included), for a
    change that follows the insert without reading it back."""
    return Whole(document, _reader=_READER)


async def read_one(collection: AsyncCollection[Any], where: Mapping[str, Any],
                   *, sort: Sequence[tuple[str, int]] | None = None) -> Whole | None:
    """One whole document, to change with ``Outbox.update``."""
    return _whole(await collection.find_one(where, sort=sort))


async def read_many(collection: AsyncCollection[Any], where: Mapping[str, Any],
                    *, sort: Sequence[tuple[str, int]] | None = None, limit: int = 0) -> list[Whole]:
    """Whole documents, to change with ``Outbox.update``."""
    cursor = collection.find(where, sort=sort, limit=limit)
    return [Whole(doc, _reader=_READER) async for doc in cursor]


async def read_each(collection: AsyncCollection[Any], where: Mapping[str, Any]) -> AsyncIterator[Whole]:
    """Whole documents one by one, for passes over a whole collection."""
    async for doc in collection.find(where):
        yield Whole(doc, _reader=_READER)


async def take_one(collection: AsyncCollection[Any], where: Mapping[str, Any],
                   change: Mapping[str, Any]) -> Whole | None:
    """Apply an update operator to one document and read it whole after the change (a claim).

    ``change`` must increment ``outbox_rev``, so that a writer holding an older copy loses."""
    if REV not in change.get("$inc", {}):
        raise ValueError("a change outside Outbox.update must increment outbox_rev")
    return _whole(await collection.find_one_and_update(where, change, return_document=ReturnDocument.AFTER))


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
        current: Whole,
        changes: Mapping[str, Any],
        events: Sequence[Event] = (),
        *,
        unset: Sequence[str] = (),
        purge_when_published: bool = False,
    ) -> Whole:
        """Apply ``changes`` (keys may be dotted paths) to ``current``, with ``events``, atomically.

        ``current`` is the whole document as read by ``read_one`` and its kin: the new version
        replaces it under the ``outbox_rev`` guard. A replacement keeps every value's BSON type on
        every MongoDB-compatible server (``$set`` on the embedded server stores dates as strings
        and booleans as integers). Raises StaleDocument if the document changed since it was read.
        """
        guard, document = self.replacement(current, changes, events, unset=unset,
                                           purge_when_published=purge_when_published)
        result = await collection.replace_one(guard, document)
        if result.matched_count == 0:
            raise StaleDocument(str(current["_id"]))
        if events:
            self._wake()
        return Whole(document, _reader=_READER)

    @staticmethod
    def replacement(
        current: Whole,
        changes: Mapping[str, Any],
        events: Sequence[Event] = (),
        *,
        unset: Sequence[str] = (),
        purge_when_published: bool = False,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The filter and the new document of ``update``, for callers that write several
        documents in one bulk write (then call ``wake_relay`` when events were added)."""
        if not isinstance(current, Whole):
            raise TypeError("Outbox writes replace whole documents; read them with read_one or its kin")
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
