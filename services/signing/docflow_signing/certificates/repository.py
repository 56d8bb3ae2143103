"""Stored certificates of users (the only code touching the ``certificates`` collection)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.errors import Conflict
from docflow_shared.mongo import Document

CERTIFICATES = "certificates"


def active_key(user_id: str, fingerprint: str) -> str:
    return f"{user_id}:{fingerprint}"


class CertificateRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[CERTIFICATES]

    async def create_indexes(self) -> None:
        await self.collection.create_index([("dedupe_key", ASCENDING)], unique=True)
        await self.collection.create_index([("user_id", ASCENDING)])

    async def insert(self, document: dict[str, Any]) -> None:
        """Store a certificate; 409 when the user already has one with this fingerprint."""
        doc = {**document, "dedupe_key": active_key(document["user_id"], document["fingerprint_sha256"])}
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError as exc:
            raise Conflict("You have already uploaded this certificate.", slug="certificate-exists") from exc

    async def get(self, user_id: str, certificate_id: str) -> Document | None:
        return await self.collection.find_one(
            {"_id": certificate_id, "user_id": user_id, "active": True}
        )

    async def active_of(self, user_id: str) -> list[Document]:
        return await self.collection.find({"user_id": user_id, "active": True}).to_list()

    async def by_fingerprint(self, user_id: str, fingerprint: str) -> Document | None:
        return await self.collection.find_one({"dedupe_key": active_key(user_id, fingerprint)})

    async def page(self, user_id: str, *, before: str | None, limit: int) -> list[Document]:
        query: dict[str, Any] = {"user_id": user_id, "active": True}
        if before:
            query["_id"] = {"$lt": before}
        return await self.collection.find(query).sort("_id", DESCENDING).limit(limit).to_list()

    async def soft_delete(self, user_id: str, certificate_id: str, at: datetime) -> bool:
        """Mark deleted and free the fingerprint for a later upload."""
        result = await self.collection.update_one(
            {"_id": certificate_id, "user_id": user_id, "active": True},
            {"$set": {"active": False, "deleted_at": at, "dedupe_key": f"deleted:{certificate_id}"}},
        )
        return result.modified_count > 0

    async def delete_all_of(self, user_id: str) -> int:
        """Erase every certificate of a deleted user."""
        result = await self.collection.delete_many({"user_id": user_id})
        return result.deleted_count
