"""Signing's copy of each route's access snapshot: one record per (request, participant)."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.events.catalogue import RouteAccessChanged, RouteExternalAccessGranted
from docflow_shared.mongo import Document

ROUTE_ACCESS, EXTERNAL_SESSIONS = "route_access", "external_sessions"
SEES = ["sign", "wait", "view"]


class RouteAccessRepository:
    """The only code touching ``route_access``."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[ROUTE_ACCESS]
        self.sessions = db[EXTERNAL_SESSIONS]

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
                      "on_behalf_of": participant.on_behalf_of, "until_us": _us(participant.until),
                      "hide_signatures": snapshot.hide_signatures, "expires_us": _us(snapshot.expires_at),
                      "version": snapshot.version}
            try:
                await self.collection.update_one(
                    {"_id": f"{snapshot.request_id}:{participant.user_id}", "version": {"$lt": snapshot.version}},
                    {"$set": fields}, upsert=True,
                )
            except DuplicateKeyError:
                pass  # a newer snapshot is stored: this one is stale

    async def standing(self, document_id: str, user_id: str, access: list[str], *,
                       open_only: bool) -> Document | None:
        query: dict[str, object] = {"document_id": document_id, "user_id": user_id, "access": {"$in": access}}
        if open_only:
            query["open"] = True
        return await self.collection.find_one(query)

    async def hides_signatures(self, document_id: str) -> bool:
        found = await self.collection.find_one(
            {"document_id": document_id, "open": True, "hide_signatures": True}, {"_id": 1})
        return found is not None

    async def grant_session(self, granted: RouteExternalAccessGranted) -> None:
        """An outsider's session (by the hash of its token) for one document; idempotent."""
        await self.sessions.replace_one({"_id": granted.session_hash}, {
            "_id": granted.session_hash, "signer_id": granted.signer_id, "request_id": granted.request_id,
            "document_id": granted.document_id, "email": granted.email, "may_sign": granted.may_sign,
            "expires_us": _us(granted.expires_at), "revoked": False,
        }, upsert=True)

    async def revoke_session(self, session_hash: str) -> None:
        await self.sessions.replace_one({"_id": session_hash}, {"_id": session_hash, "revoked": True}, upsert=True)

    async def session(self, session_hash: str) -> Document | None:
        return await self.sessions.find_one({"_id": session_hash, "revoked": False})

    async def forget_user(self, user_id: str) -> None:
        await self.collection.delete_many({"user_id": user_id})

    async def forget_document(self, document_id: str) -> None:
        await self.collection.delete_many({"document_id": document_id})


def _us(at: datetime | None) -> int | None:
    """A time as integer microseconds: the embedded server's ``$set`` does not keep dates dates."""
    return None if at is None else int(at.timestamp() * 1_000_000)
