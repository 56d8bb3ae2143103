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
                               signed_at: datetime, signer_role: str | None = None,
                               sign_right: bool | None = None) -> None:
        """``signer_role`` and ``sign_right`` as signing read them from the certificate (Kazakh
        certificates; null otherwise, and on signatures recorded before they were kept)."""
        await self.signatures.update_one(
            {"_id": signature_id},
            {"$setOnInsert": {"request_id": request_id, "signer_id": signer_id, "signed_at_us": event_us(signed_at),
                              "signed_at": signed_at, "signer_role": signer_role, "sign_right": sign_right}},
            upsert=True,
        )

    async def signatures_for(self, request_id: str, signer_id: str) -> list[Document]:
        """The signer's signatures under the request, oldest first."""
        cursor = self.signatures.find({"request_id": request_id, "signer_id": signer_id}).sort(
            [("signed_at_us", ASCENDING), ("_id", ASCENDING)])
        return [doc async for doc in cursor]
