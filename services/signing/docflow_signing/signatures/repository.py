"""Stored signatures (the only code touching the ``signatures`` collection)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.errors import Conflict
from docflow_shared.events import Event
from docflow_shared.mongo import Document
from docflow_shared.outbox import Outbox

SIGNATURES = "signatures"


class SignatureRepository:
    def __init__(self, db: AsyncDatabase[Document], outbox: Outbox) -> None:
        self.collection = db[SIGNATURES]
        self.outbox = outbox

    async def create_indexes(self) -> None:
        await self.collection.create_index([("dedupe_key", ASCENDING)], unique=True)
        await self.collection.create_index([("document_id", ASCENDING)])
        await self.collection.create_index([("request_id", ASCENDING), ("signer_id", ASCENDING)])

    async def insert(self, signature: Document, events: Sequence[Event]) -> None:
        """Store a signature with its events; 409 when the same signature of the file exists."""
        doc = {**signature, "dedupe_key": f"{signature['file_id']}:{signature['signature_sha256']}"}
        try:
            await self.outbox.insert(self.collection, doc, events)
        except DuplicateKeyError as exc:
            raise Conflict("This signature of the file is already stored.", slug="signature-exists") from exc

    async def get(self, document_id: str, signature_id: str) -> Document | None:
        return await self.collection.find_one({"_id": signature_id, "document_id": document_id})

    async def page(self, document_id: str, *, before: str | None, limit: int, file_id: str | None,
                   signer_id: str | None) -> list[Document]:
        query: dict[str, Any] = {"document_id": document_id}
        if before:
            query["_id"] = {"$lt": before}
        if file_id:
            query["file_id"] = file_id
        if signer_id:
            query["signer_id"] = signer_id
        projection = {"der": 0, "outbox": 0}
        return await self.collection.find(query, projection).sort("_id", DESCENDING).limit(limit).to_list()

    async def for_request(self, request_id: str, signer_id: str) -> Document | None:
        return await self.collection.find_one(
            {"request_id": request_id, "signer_id": signer_id}, {"_id": 1, "created_at": 1}
        )
