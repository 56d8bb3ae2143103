"""Stored certificates of users (the only code touching the ``certificates`` collection)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.errors import Conflict
from docflow_shared.mongo import Document
from docflow_shared.pagination import NEWEST_FIRST

CERTIFICATES = "certificates"


class CertificateDocument(TypedDict, total=False):
    _id: str
    user_id: str
    der: bytes
    fingerprint_sha256: str
    dedupe_key: str  # ``active:<fingerprint>`` while active (unique), ``deleted:<id>`` after
    subject: str  # RFC 4514
    subject_common_name: str | None
    issuer: str
    serial_number: str
    not_before: datetime
    not_after: datetime
    key_usage: list[str]
    key_algorithm: str
    iin: str | None
    email: str | None
    trusted: bool
    trust_problem: str | None
    chain: list[str]
    created_at: datetime
    active: bool  # the live filter: a deleted certificate is inactive (``$set`` writes it)
    deleted_at: datetime | None  # written by ``$set``, only ever read back


def active_key(fingerprint: str) -> str:
    """The unique key of an active certificate: one account at a time may hold a certificate."""
    return f"active:{fingerprint}"


def holder_conflict(user_id: str, holder: str) -> Conflict:
    """409 for a certificate already active on ``holder``'s account."""
    if holder == user_id:
        return Conflict("You have already uploaded this certificate.", slug="certificate-exists")
    return Conflict("This certificate is registered to another account.", slug="certificate-taken")


class CertificateRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[CERTIFICATES]

    async def create_indexes(self) -> None:
        await self.collection.create_index([("dedupe_key", ASCENDING)], unique=True)
        await self.collection.create_index([("user_id", ASCENDING)])
        await self.collection.create_index([("fingerprint_sha256", ASCENDING)])

    async def insert(self, document: dict[str, Any]) -> None:
        """Store a certificate; 409 when an account (this one or another) holds it already."""
        doc = {**document, "dedupe_key": active_key(document["fingerprint_sha256"])}
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError as exc:
            holder = await self.active_holder(document["fingerprint_sha256"])
            raise holder_conflict(document["user_id"], holder or document["user_id"]) from exc

    async def get(self, user_id: str, certificate_id: str) -> Document | None:
        return await self.collection.find_one(
            {"_id": certificate_id, "user_id": user_id, "active": True}
        )

    async def active_of(self, user_id: str) -> list[Document]:
        return await self.collection.find({"user_id": user_id, "active": True}).to_list()

    async def active_holder(self, fingerprint: str) -> str | None:
        """The account on which this certificate is active, if any."""
        doc = await self.collection.find_one({"fingerprint_sha256": fingerprint, "active": True}, {"user_id": 1})
        return None if doc is None else str(doc["user_id"])

    async def page(self, user_id: str, *, after: dict[str, Any], limit: int) -> list[Document]:
        query: dict[str, Any] = {"user_id": user_id, "active": True, **after}
        return await self.collection.find(query).sort(NEWEST_FIRST.sort).limit(limit).to_list()

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
