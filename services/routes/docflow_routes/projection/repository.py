"""The routes service's projection (``docflow_shared.projection``), with what only routes keeps:
the signatures made under requests (from ``document.signed``)."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.mongo import Document
from docflow_shared.projection.repository import ProjectionRepository as SharedProjectionRepository
from docflow_shared.projection.repository import event_us

SIGNATURES = "signatures"


class ProjectionRepository(SharedProjectionRepository):
    """The only code touching routes' projection collections."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db)
        self.signatures = db[SIGNATURES]

    async def create_indexes(self) -> None:
        await super().create_indexes()
        await self.signatures.create_index([("request_id", ASCENDING), ("signer_id", ASCENDING)])

    async def record_signature(self, *, signature_id: str, request_id: str, signer_id: str,
                               signed_at: datetime) -> None:
        await self.signatures.update_one(
            {"_id": signature_id},
            {"$setOnInsert": {"request_id": request_id, "signer_id": signer_id, "signed_at_us": event_us(signed_at),
                              "signed_at": signed_at}},
            upsert=True,
        )

    async def signature_for(self, request_id: str, signer_id: str) -> Document | None:
        return await self.signatures.find_one({"request_id": request_id, "signer_id": signer_id})
