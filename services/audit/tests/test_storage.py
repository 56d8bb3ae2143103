"""What audit stores, read back through its repositories from the real database: each field has
the type its TypedDict declares (``AuditRecordDocument``, ``HeadDocument``, ``ParticipantDocument``)."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from docflow_audit.access.repository import AccessRepository
from docflow_audit.access.service import AccessService
from docflow_audit.trail.chain import record_hash
from docflow_audit.trail.repository import TrailRepository
from docflow_audit.trail.schemas import AuditRecordRead
from docflow_audit.trail.service import TrailService
from docflow_shared.events import Client, new_event
from docflow_shared.events.catalogue import DocumentViewed
from docflow_shared.events.producers import producer_of
from docflow_shared.mongo import Document


async def test_a_record_reads_back_as_stored(db: AsyncDatabase[Document]) -> None:
    trail, access = TrailRepository(db), AccessRepository(db)
    await trail.create_indexes()
    await access.create_indexes()
    service = TrailService(trail, AccessService(access), append_attempts=5, export_max_records=100)
    payload = DocumentViewed(document_id="d-store", owner_id="u-owner", viewer_id="u-viewer",
                             client=Client(ip="192.0.2.1", user_agent="test", request_id="r1"))
    event = new_event(payload, producer=producer_of(payload.TYPE) or "")

    written = await service.record(event)

    stored = await trail.by_event(str(event.id))
    assert written is not None and stored == written
    assert isinstance(stored["seq"], int) and stored["seq"] == 1
    # the trail's times are ISO text by design: the hash covers them as written
    assert isinstance(stored["occurred_at"], str)
    assert datetime.fromisoformat(stored["occurred_at"]) == event.occurred_at
    assert isinstance(stored["client"], dict) and stored["client"]["ip"] == "192.0.2.1"
    assert isinstance(stored["details"], dict)
    assert stored["hash"] == record_hash(stored)
    assert AuditRecordRead.from_doc(stored).seq == 1

    head = await trail.head("d-store")
    assert head is not None and isinstance(head["seq"], int) and head["hash"] == stored["hash"]

    await access.set_share("d-store", "u-reader", True, 3)
    await access.join("d-store", "u-signer", "signer")
    share = await access.participation("d-store", "u-reader")
    signer = await access.participation("d-store", "u-signer")
    assert share is not None and bool(share["share"]) and share["share_version"] == 3
    assert signer is not None and bool(signer["signer"]) and signer["user_id"] == "u-signer"
    assert await access.owner_of("d-store") == "u-owner"
