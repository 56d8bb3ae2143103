"""Stored signatures (the only code touching the ``signatures`` collection)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.errors import Conflict
from docflow_shared.events import Event
from docflow_shared.mongo import Document
from docflow_shared.outbox import Outbox
from docflow_shared.pagination import NEWEST_FIRST
from docflow_shared.repository import Repository, Stored

SIGNATURES = "signatures"


class SignatureDocument(Stored, total=False):
    _id: str
    document_id: str
    file_id: str
    signer_id: str
    certificate_id: str
    request_id: str | None
    signing_time: datetime  # the time used (docs/architecture.md, "When a signature was made")
    time_basis: str  # ``received`` or ``timestamp``
    received_at: datetime
    claimed_signing_time: datetime | None
    timestamp_time: datetime | None
    created_at: datetime
    trusted: bool
    file_sha256: str
    signature_sha256: str
    dedupe_key: str  # ``<file id>:<signature sha256>``, unique
    der: bytes
    report: dict[str, Any]


class SignatureRepository(Repository[SignatureDocument]):
    """Signatures are never deleted one by one (a deleted document takes its signatures along)."""

    def __init__(self, db: AsyncDatabase[Document], outbox: Outbox) -> None:
        super().__init__(db[SIGNATURES], outbox)

    async def create_indexes(self) -> None:
        await self.collection.create_index([("dedupe_key", ASCENDING)], unique=True)
        await self.collection.create_index([("document_id", ASCENDING)])
        await self.collection.create_index([("request_id", ASCENDING), ("signer_id", ASCENDING)])

    async def insert(self, signature: Mapping[str, Any], events: Sequence[Event]) -> None:
        """Store a signature with its events; 409 when the same signature of the file exists."""
        doc = {**signature, "dedupe_key": f"{signature['file_id']}:{signature['signature_sha256']}"}
        try:
            await self.add(doc, events)
        except DuplicateKeyError as exc:
            raise Conflict("This signature of the file is already stored.", slug="signature-exists") from exc

    async def in_document(self, document_id: str, signature_id: str) -> Document | None:
        return await self.collection.find_one({"_id": signature_id, "document_id": document_id})

    async def page(self, document_id: str, *, after: dict[str, Any], limit: int, file_id: str | None,
                   signer_id: str | None) -> list[Document]:
        query: dict[str, Any] = {"document_id": document_id, **after}
        if file_id:
            query["file_id"] = file_id
        if signer_id:
            query["signer_id"] = signer_id
        projection = {"der": 0, "outbox": 0}
        return await self.collection.find(query, projection).sort(NEWEST_FIRST.sort).limit(limit).to_list()
