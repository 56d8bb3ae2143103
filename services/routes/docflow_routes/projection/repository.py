"""The routes service's projection (``docflow_shared.projection``), with what only routes keeps:
the signatures made under requests (from ``document.signed``)."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.mongo import Document
from docflow_shared.projection.repository import ProjectionRepository as SharedProjectionRepository
from docflow_shared.projection.repository import event_us
from docflow_shared.repository import Collection

SIGNATURES = "signatures"


class SignatureDocument(TypedDict, total=False):
    """A signature made under a request (``signatures``), from ``document.signed``."""

    _id: str  # the signature's id
    request_id: str
    signer_id: str  # the account, or ``ext:<entry id>`` (``:d`` for a delegate) through a link
    signed_at: datetime  # ``$setOnInsert`` of an ``update_one`` upsert keeps it a date
    signed_at_us: int  # the order of a signer's signatures (``event_us``)
    signer_role: str | None
    sign_right: bool | None


class ProjectionRepository(SharedProjectionRepository):
    """The only code touching routes' projection collections."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db)
        self.signatures = Collection[SignatureDocument](db[SIGNATURES]).typed

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

    async def signatures_for(self, request_id: str, signer_id: str) -> list[SignatureDocument]:
        """The signer's signatures under the request, oldest first."""
        cursor = self.signatures.find({"request_id": request_id, "signer_id": signer_id}).sort(
            [("signed_at_us", ASCENDING), ("_id", ASCENDING)])
        return [doc async for doc in cursor]
