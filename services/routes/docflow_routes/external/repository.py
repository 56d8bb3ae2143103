"""Links for people outside DocFlow and the sessions they open (the only code touching
``external_links`` and ``external_sessions``). Times are integer microseconds: guarded updates
compare them, and numbers compare alike on every MongoDB-compatible server."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.mongo import Document
from docflow_shared.repository import Collection

LINKS, SESSIONS = "external_links", "external_sessions"


class ExternalLinkDocument(TypedDict, total=False):
    _id: str
    token_hash: str  # the link's token, hashed (unique)
    request_id: str
    document_id: str
    entry_id: str  # the signer entry it acts for
    email: str
    delegate: bool  # for the entry's delegate rather than its participant
    state: str  # new, used, locked, or superseded by a newer link to the same person
    expires_us: int
    code_hash: str
    code_expires_us: int
    code_sends: int
    last_code_us: int
    failures: int
    used_us: int
    superseded_by: str  # the link that replaced it (a reminder's)
    created_at: datetime


class ExternalSessionDocument(TypedDict):
    _id: str  # the session token, hashed
    link_id: str
    request_id: str
    document_id: str
    entry_id: str
    email: str
    delegate: bool
    signer_id: str  # ``ext:<entry id>``, ``:d`` for a delegate
    expires_us: int
    created_at: datetime


class ExternalRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.links = Collection[ExternalLinkDocument](db[LINKS]).typed
        self.sessions = Collection[ExternalSessionDocument](db[SESSIONS]).typed

    async def create_indexes(self) -> None:
        await self.links.create_index([("token_hash", ASCENDING)], unique=True)
        await self.links.create_index([("request_id", ASCENDING)])
        await self.sessions.create_index([("request_id", ASCENDING)])

    async def insert_link(self, link: ExternalLinkDocument) -> None:
        await self.links.insert_one(link)

    async def supersede(self, link_id: str, *, request_id: str, entry_id: str, delegate: bool) -> None:
        """The person's earlier unused links for the entry stop working: ``link_id`` replaces them
        (found through the request's index)."""
        await self.links.update_many(
            {"request_id": request_id, "entry_id": entry_id, "delegate": delegate, "state": "new",
             "_id": {"$ne": link_id}},
            {"$set": {"state": "superseded", "superseded_by": link_id}},
        )

    async def link_by_hash(self, token_hash: str) -> ExternalLinkDocument | None:
        return await self.links.find_one({"token_hash": token_hash})

    async def claim_code(self, link_id: str, *, code_hash: str, now_us: int, code_expires_us: int,
                         gap_us: int, max_sends: int) -> ExternalLinkDocument | None:
        """Store a new code unless one went out less than ``gap_us`` ago or ``max_sends`` did."""
        return await self.links.find_one_and_update(
            {"_id": link_id, "state": "new", "code_sends": {"$lt": max_sends},
             "last_code_us": {"$lte": now_us - gap_us}},
            {"$set": {"code_hash": code_hash, "code_expires_us": code_expires_us, "last_code_us": now_us},
             "$inc": {"code_sends": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def count_failure(self, link_id: str, *, max_failures: int) -> ExternalLinkDocument | None:
        """One more wrong code; the link locks at ``max_failures``."""
        counted = await self.links.find_one_and_update(
            {"_id": link_id, "state": "new"}, {"$inc": {"failures": 1}}, return_document=ReturnDocument.AFTER)
        if counted is not None and int(counted["failures"]) >= max_failures:
            await self.links.update_one({"_id": link_id, "state": "new"}, {"$set": {"state": "locked"}})
            counted["state"] = "locked"
        return counted

    async def use(self, link_id: str, *, code_hash: str, now_us: int) -> bool:
        """Spend the link with the right, unexpired code: only one taker wins."""
        result = await self.links.update_one(
            {"_id": link_id, "state": "new", "code_hash": code_hash, "code_expires_us": {"$gt": now_us}},
            {"$set": {"state": "used", "used_us": now_us}},
        )
        return result.modified_count == 1

    async def insert_session(self, session: ExternalSessionDocument) -> None:
        await self.sessions.insert_one(session)

    async def session(self, session_hash: str) -> ExternalSessionDocument | None:
        return await self.sessions.find_one({"_id": session_hash})

    async def sessions_of(self, request_id: str) -> list[ExternalSessionDocument]:
        return await self.sessions.find({"request_id": request_id}).to_list()
