"""Every query on ``records`` (the chained trail) and ``heads`` (each chain's last record)."""

from __future__ import annotations

from typing import Any, TypedDict

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.mongo import Document
from docflow_shared.pagination import Keyset
from docflow_shared.repository import Collection

RECORDS, HEADS = "records", "heads"
# a trail reads in the order it was written; ``seq`` is unique within a document's chain
TRAIL_ORDER = Keyset("seq", direction=ASCENDING, unique=True)


class AuditRecordDocument(TypedDict):
    """One record of a document's chain, as hashed (``docflow_audit.trail.chain``): its times are
    ISO text, not dates, because the hash covers them exactly as written and an export shows them."""

    _id: str  # the event's id: one record per event
    document_id: str
    seq: int  # its place in the document's chain, from 1
    event_id: str
    event_type: str
    action: str
    occurred_at: str  # ISO text (UTC)
    recorded_at: str  # ISO text (UTC)
    actor: dict[str, str] | None  # an ``Actor``
    on_behalf_of: dict[str, str] | None
    client: dict[str, str]  # a ``ClientRead``
    details: dict[str, Any]  # plain JSON values only (``facts.plain``)
    prev_hash: str
    hash: str


class HeadDocument(TypedDict):
    """A chain's last record (``heads``), moved forward by upsert."""

    _id: str  # the document's id
    seq: int
    hash: str


class TrailRepository(Collection[AuditRecordDocument]):
    """Records are only ever inserted: nothing here updates or deletes one."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db[RECORDS])
        self.records = self.typed
        self.heads = Collection[HeadDocument](db[HEADS]).typed

    async def create_indexes(self) -> None:
        # one record per place in a chain: two writers taking the same place cannot both land,
        # so a chain never forks (the loser reads the new end and tries again)
        await self.records.create_index([("document_id", ASCENDING), ("seq", ASCENDING)],
                                        name="chain_position", unique=True)
        # one record per event: a record's _id is its event's id

    async def last(self, document_id: str) -> AuditRecordDocument | None:
        return await self.records.find_one({"document_id": document_id}, sort=[("seq", DESCENDING)])

    async def insert(self, record: AuditRecordDocument) -> bool:
        """False when the record's place (or its event) is taken already."""
        try:
            await self.records.insert_one(record)
        except DuplicateKeyError:
            return False
        return True

    async def by_event(self, event_id: str) -> AuditRecordDocument | None:
        return await self.records.find_one({"_id": event_id})

    async def advance_head(self, document_id: str, seq: int, record_hash: str) -> None:
        """Move the chain's head to ``seq`` unless it is further already."""
        try:
            await self.heads.update_one({"_id": document_id, "seq": {"$lt": seq}},
                                        {"$set": {"seq": seq, "hash": record_hash}}, upsert=True)
        except DuplicateKeyError:
            pass  # the head is at ``seq`` or beyond: another writer moved it

    async def head(self, document_id: str) -> HeadDocument | None:
        return await self.heads.find_one({"_id": document_id})

    async def page(self, document_id: str, cursor: str | None, limit: int) -> list[AuditRecordDocument]:
        where = {"document_id": document_id, **TRAIL_ORDER.after(cursor)}
        return await self.records.find(where).sort(TRAIL_ORDER.sort).limit(limit).to_list()

    async def upto(self, document_id: str, seq: int, limit: int) -> list[AuditRecordDocument]:
        """The chain from its first record to ``seq``."""
        where = {"document_id": document_id, "seq": {"$lte": seq}}
        return await self.records.find(where).sort(TRAIL_ORDER.sort).limit(limit).to_list()
