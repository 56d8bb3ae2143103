"""Signing's copy of each route's access snapshot: one record per (request, participant), and the
sessions routes opened for people outside DocFlow.

A snapshot's times (a request's ``expires_at``, a delegation's ``until``) are only read back and
compared in Python, so a snapshot ``$set``s them (a ``SetTime``). Records stored before they were
dates hold integer microseconds (``expires_us``, ``until_us``) until the next snapshot replaces
them; ``expiry`` reads either through ``stored_datetime`` (docs/architecture.md, "Times"). The
sessions' times: ``docflow_shared.projection.outsiders``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.events.catalogue import RouteAccessChanged, RouteExternalAccessGranted
from docflow_shared.mongo import Document, SetTime
from docflow_shared.projection.outsiders import EXTERNAL_SESSIONS, OutsiderSessionDocument, older_or
from docflow_shared.repository import Collection

ROUTE_ACCESS = "route_access"
SEES = ["sign", "wait", "view"]
# the field a time was kept in as integer microseconds before it was a date
OLDER = {"expires_at": "expires_us", "until": "until_us"}


class RouteAccessDocument(TypedDict, total=False):
    _id: str  # ``<request id>:<user id>``
    request_id: str
    document_id: str
    owner_id: str
    user_id: str
    access: str
    open: bool
    on_behalf_of: str | None
    until: SetTime | None  # a delegation's end
    hide_signatures: bool
    expires_at: SetTime | None  # the request's
    version: int
    until_us: int | None  # older records' ``until`` and ``expires_at``, integer microseconds
    expires_us: int | None


class RouteAccessRepository:
    """The only code touching ``route_access``."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[ROUTE_ACCESS]
        self.sessions = db[EXTERNAL_SESSIONS]
        self.typed = Collection[RouteAccessDocument](self.collection).typed
        self.typed_sessions = Collection[OutsiderSessionDocument](self.sessions).typed

    async def create_indexes(self) -> None:
        await self.collection.create_index([("document_id", ASCENDING), ("user_id", ASCENDING)])
        await self.collection.create_index([("request_id", ASCENDING)])
        await self.collection.create_index([("user_id", ASCENDING)])

    async def apply(self, snapshot: RouteAccessChanged) -> None:
        """Store each participant's standing unless a newer snapshot of the request is stored
        (deliveries are unordered: the highest version wins)."""
        for participant in snapshot.participants:
            fields = {"request_id": snapshot.request_id, "document_id": snapshot.document_id,
                      "owner_id": snapshot.owner_id, "user_id": participant.user_id,
                      "access": participant.access, "open": snapshot.open,
                      "on_behalf_of": participant.on_behalf_of, "until": participant.until,
                      "hide_signatures": snapshot.hide_signatures, "expires_at": snapshot.expires_at,
                      "version": snapshot.version}
            try:
                await self.collection.update_one(
                    {"_id": f"{snapshot.request_id}:{participant.user_id}", "version": {"$lt": snapshot.version}},
                    {"$set": fields}, upsert=True,
                )
            except DuplicateKeyError:
                pass  # a newer snapshot is stored: this one is stale

    async def standing(self, document_id: str, user_id: str, access: list[str], *,
                       open_only: bool) -> RouteAccessDocument | None:
        query: dict[str, object] = {"document_id": document_id, "user_id": user_id, "access": {"$in": access}}
        if open_only:
            query["open"] = True
        return await self.typed.find_one(query)

    async def hides_signatures(self, document_id: str) -> bool:
        found = await self.collection.find_one(
            {"document_id": document_id, "open": True, "hide_signatures": True}, {"_id": 1})
        return found is not None

    async def grant_session(self, granted: RouteExternalAccessGranted) -> None:
        """An outsider's session (by the hash of its token) for one document; idempotent."""
        await self.sessions.replace_one({"_id": granted.session_hash}, {
            "_id": granted.session_hash, "signer_id": granted.signer_id, "request_id": granted.request_id,
            "document_id": granted.document_id, "email": granted.email, "may_sign": granted.may_sign,
            "expires_at": granted.expires_at, "revoked": False,
        }, upsert=True)

    async def revoke_session(self, session_hash: str) -> None:
        await self.sessions.replace_one({"_id": session_hash}, {"_id": session_hash, "revoked": True}, upsert=True)

    async def session(self, session_hash: str) -> OutsiderSessionDocument | None:
        return await self.typed_sessions.find_one({"_id": session_hash, "revoked": False})

    async def forget_user(self, user_id: str) -> None:
        await self.collection.delete_many({"user_id": user_id})

    async def forget_document(self, document_id: str) -> None:
        await self.collection.delete_many({"document_id": document_id})


def expiry(record: Mapping[str, Any], field: str) -> datetime | None:
    """The time ``field`` of a record, from its older integer microseconds when the record
    predates dates; None when it has none."""
    return older_or(record, field, OLDER[field])
