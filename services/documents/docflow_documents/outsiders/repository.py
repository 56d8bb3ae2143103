"""Sessions routes opened for people outside DocFlow (the only code touching ``external_sessions``;
their times: ``docflow_shared.projection.outsiders``)."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.events.catalogue import RouteExternalAccessGranted
from docflow_shared.mongo import Document
from docflow_shared.projection.outsiders import EXTERNAL_SESSIONS, OutsiderSessionDocument
from docflow_shared.repository import Collection


class OutsiderSessionRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = Collection[OutsiderSessionDocument](db[EXTERNAL_SESSIONS]).typed

    async def create_indexes(self) -> None:
        return None  # found by _id (the hash of the session token) only

    async def grant(self, granted: RouteExternalAccessGranted) -> None:
        await self.collection.replace_one({"_id": granted.session_hash}, {
            "_id": granted.session_hash, "document_id": granted.document_id, "request_id": granted.request_id,
            "signer_id": granted.signer_id, "expires_at": granted.expires_at, "revoked": False,
        }, upsert=True)

    async def revoke(self, session_hash: str) -> None:
        await self.collection.replace_one({"_id": session_hash}, {"_id": session_hash, "revoked": True}, upsert=True)

    async def get(self, session_hash: str) -> OutsiderSessionDocument | None:
        return await self.collection.find_one({"_id": session_hash, "revoked": False})
