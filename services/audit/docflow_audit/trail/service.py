"""The trail: records appended to each document's hash chain from events, read in pages or
exported whole (docs/architecture.md, "Audit trail")."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from docflow_audit.access.service import AccessService
from docflow_audit.trail import facts
from docflow_audit.trail.chain import GENESIS, record_hash
from docflow_audit.trail.ends import ChainEnds, End
from docflow_audit.trail.repository import TRAIL_ORDER, AuditRecordDocument, TrailRepository
from docflow_audit.trail.schemas import AuditExport, AuditRecordRead, ChainHead, Fact
from docflow_shared.broker import TransientError
from docflow_shared.events import Event
from docflow_shared.pagination import Page


class ChainContended(TransientError):
    """Every attempt to take the next place in a chain lost to another writer; the event waits."""


class TrailService:
    def __init__(self, repository: TrailRepository, access: AccessService, *, append_attempts: int,
                 export_max_records: int) -> None:
        self.repository = repository
        self.access = access
        self.append_attempts = append_attempts
        self.export_max_records = export_max_records
        self.ends = ChainEnds()

    async def record(self, event: Event) -> AuditRecordDocument | None:
        """The event's fact: who may read the trail, then the record itself. Safe to repeat:
        the projection is idempotent and the record is kept once per event id."""
        fact = facts.READERS[event.type](event)
        await self.access.apply(fact.document_id, fact.owner_id, fact.access)
        if not fact.action:  # it only says who may read the trail
            return None
        return await self.append(fact, event)

    async def append(self, fact: Fact, event: Event) -> AuditRecordDocument:
        """The record at the end of the document's chain. Two writers (replicas) at the same end
        both try its next place; the unique (document_id, seq) index lets one in, and the other
        reads the new end and tries again, so the chain never forks. Within this process the
        appends to one chain take turns, and the end is remembered rather than read each time."""
        document_id, event_id = fact.document_id, str(event.id)
        async with self.ends.turn(document_id):
            for attempt in range(self.append_attempts):
                end = self.ends.get(document_id) or await self._stored_end(document_id)
                record = self._record(fact, event, end)
                if await self.repository.insert(record):
                    self.ends.set(document_id, (record["seq"], record["hash"]))
                    await self.repository.advance_head(document_id, record["seq"], record["hash"])
                    return record
                kept = await self.repository.by_event(event_id)
                if kept is not None:  # a redelivery: the record is there, perhaps not yet the head
                    await self.repository.advance_head(document_id, int(kept["seq"]), str(kept["hash"]))
                    return kept
                self.ends.forget(document_id)  # another replica took the place
                await asyncio.sleep(random.uniform(0, 0.002 * min(attempt + 1, 25)))
        raise ChainContended(f"chain of {document_id} stayed contended for {self.append_attempts} attempts")

    async def _stored_end(self, document_id: str) -> End:
        last = await self.repository.last(document_id)
        return (int(last["seq"]), str(last["hash"])) if last else (0, GENESIS)

    @staticmethod
    def _record(fact: Fact, event: Event, end: End) -> AuditRecordDocument:
        seq, prev_hash = end
        record: AuditRecordDocument = {
            # one record per event: a redelivered event finds its record under its own id
            "_id": str(event.id),
            "document_id": fact.document_id,
            "seq": seq + 1,
            "event_id": str(event.id),
            "event_type": event.type,
            "action": fact.action,
            "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
            "recorded_at": datetime.now(UTC).isoformat(),
            "actor": fact.actor.model_dump() if fact.actor else None,
            "on_behalf_of": fact.on_behalf_of.model_dump() if fact.on_behalf_of else None,
            "client": fact.client.model_dump(),
            "details": facts.plain(dict(fact.details)),
            "prev_hash": prev_hash,
            "hash": "",  # of the fields above (``HASHED_FIELDS``, which it is not one of)
        }
        record["hash"] = record_hash(record)
        return record

    async def page(self, *, user_id: str, document_id: str, cursor: str | None,
                   limit: int) -> Page[AuditRecordRead]:
        await self.access.require_reader(document_id, user_id)
        docs, next_cursor = TRAIL_ORDER.page(await self.repository.page(document_id, cursor, limit + 1), limit)
        return Page[AuditRecordRead](items=[AuditRecordRead.from_doc(d) for d in docs], next_cursor=next_cursor)

    async def export(self, *, user_id: str, document_id: str) -> AuditExport:
        await self.access.require_reader(document_id, user_id)
        # up to the head as read first: a record being appended meanwhile waits for the next export
        head = await self.repository.head(document_id)
        records = await self.repository.upto(document_id, int(head["seq"]) if head else 0, self.export_max_records)
        return AuditExport(document_id=document_id, exported_at=datetime.now(UTC).isoformat(),
                           head=ChainHead(seq=int(head["seq"]), hash=str(head["hash"])) if head else None,
                           records=[AuditRecordRead.from_doc(d) for d in records])
