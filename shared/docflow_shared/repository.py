"""The small base every repository of a collection with an outbox builds on.

A repository is the only code that queries its collection. Each collection has a TypedDict
naming what its documents hold (``D``); the base owns the two rules every such repository
keeps, as polar's ``RepositorySoftDeletionMixin`` owns its soft-delete filter:

* the soft-delete filter: ``live(query)`` adds ``NOT_DELETED``, ``get``, ``read_live`` and
  ``find_live`` read through it, and ``soft_delete`` marks a document deleted with its events;
* the outbox revision guard: ``add`` and ``update`` write documents with their events
  (``Outbox``, docs/architecture.md "Events and the outbox"), and ``bump`` applies an update
  operator with ``outbox_rev`` raised, so that a writer holding an older copy loses its guard and
  re-reads (a claim that must read the result uses ``outbox.take_one``, which checks the same).

``D`` names the documents for readers and type checkers. Reads that a change follows return
``Whole`` (what ``update`` replaces); other reads go through ``typed``, the same collection
typed as holding ``D``, and return ``D``. A collection without an outbox builds on ``Collection[D]``
alone: its typed view and the soft-delete filter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypedDict, TypeVar, cast

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.results import UpdateResult

from docflow_shared.events import Event
from docflow_shared.mongo import NOT_DELETED, Document, utc_now
from docflow_shared.outbox import REV, Outbox, Whole, outbox_fields, read_many, read_one

D = TypeVar("D", bound=Mapping[str, Any])


class Stored(TypedDict, total=False):
    """What every document of a collection with an outbox carries besides its own fields."""

    outbox: list[dict[str, Any]]
    outbox_pending: bool
    outbox_rev: int
    purge_when_published: bool


class SoftDeleted(Stored, total=False):
    """A collection whose documents are deleted softly first (``NOT_DELETED``)."""

    deleted_at: datetime | None


def not_deleted(query: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``query`` restricted to documents not soft-deleted."""
    return {**(query or {}), **NOT_DELETED}


def guarded(update: Mapping[str, Any]) -> dict[str, Any]:
    """``update`` (an update operator document) raising ``outbox_rev`` as well."""
    increments = {**update.get("$inc", {}), REV: 1}
    return {**update, "$inc": increments}


class Collection(Generic[D]):
    """One collection whose documents are ``D``: ``typed`` reads (and inserts) them as ``D``,
    ``collection`` is the untyped handle for queries that project or count."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection
        # the same collection, typed: what it stores is ``D`` (its writers insert only ``D``)
        self.typed = cast("AsyncCollection[D]", collection)

    @staticmethod
    def live(query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``query`` restricted to documents not soft-deleted (``NOT_DELETED``)."""
        return not_deleted(query)

    def stored(self, document: Mapping[str, Any]) -> D:
        """A document read from this collection (a ``Whole`` about to be shown, say) as the ``D``
        it is: every writer of the collection stores ``D``."""
        return cast(D, document)


class Repository(Collection[D]):
    """One collection whose documents are ``D`` and carry an outbox."""

    def __init__(self, collection: AsyncCollection[Document], outbox: Outbox | None = None) -> None:
        super().__init__(collection)
        self.outbox = outbox or Outbox()

    async def get(self, document_id: str) -> Whole | None:
        """The live document with this id, whole (to change with ``update``)."""
        return await self.read_live({"_id": document_id})

    async def read_live(self, query: Mapping[str, Any]) -> Whole | None:
        return await read_one(self.collection, not_deleted(query))

    async def find_live(self, query: Mapping[str, Any], *, sort: Sequence[tuple[str, int]] | None = None,
                        limit: int = 0) -> list[Whole]:
        return await read_many(self.collection, not_deleted(query), sort=sort, limit=limit)

    async def add(self, document: Mapping[str, Any], events: Sequence[Event] = ()) -> None:
        """Store a new document (shaped as ``D``) with its creation events."""
        await self.outbox.insert(self.collection, document, events)

    async def update(self, current: Whole, changes: Mapping[str, Any], events: Sequence[Event] = (), *,
                     unset: Sequence[str] = (), purge_when_published: bool = False) -> Whole:
        """Replace ``current`` with ``changes`` and ``events`` under its ``outbox_rev`` guard;
        raises ``StaleDocument`` when another writer changed it since it was read."""
        return await self.outbox.update(self.collection, current, changes, events, unset=unset,
                                        purge_when_published=purge_when_published)

    async def guard_older(self) -> None:
        """At start: documents stored before the collection carried the revision guard get one, so
        that ``update`` can replace them (before ``migrate_times``, which raises it)."""
        await self.collection.update_many({REV: {"$exists": False}}, {"$set": outbox_fields()})

    async def soft_delete(self, current: Whole, events: Sequence[Event], changes: Mapping[str, Any] | None = None,
                          *, at: datetime | None = None, unset: Sequence[str] = ()) -> Whole:
        """Mark ``current`` deleted (``deleted_at``) with the events announcing it; the relay purges
        it once they are published (docs/architecture.md, "Reliability rules")."""
        return await self.update(current, {**(changes or {}), "deleted_at": at or utc_now()}, events,
                                 unset=unset, purge_when_published=True)

    async def bump(self, query: Mapping[str, Any], update: Mapping[str, Any], *, many: bool = False) -> UpdateResult:
        """An update operator applied outside ``update`` (a counter, a claim, a mass change), with
        ``outbox_rev`` raised. Dates it sets come back as text on the embedded server: set only
        times that no query compares (``docflow_shared.mongo``)."""
        if many:
            return await self.collection.update_many(query, guarded(update))
        return await self.collection.update_one(query, guarded(update))
