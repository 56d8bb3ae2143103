"""Links for people outside DocFlow and the sessions they open (the only code touching
``external_links`` and ``external_sessions``). Their times are BSON dates written by inserts and
by replacements under the link's ``outbox_rev`` guard: a code is claimed and a link spent by
reading it whole, checking it, and replacing it, so of two takers of one link exactly one wins
(docs/architecture.md, "Times")."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import TypedDict

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.mongo import Document, migrate_times
from docflow_shared.outbox import Whole, read_one, retry_stale, take_one
from docflow_shared.repository import Collection, Repository, Stored, guarded

LINKS, SESSIONS = "external_links", "external_sessions"
# times once stored as integer microseconds beside no date, rewritten at start (``migrate_times``)
LINK_TWINS = {"expires_at": "expires_us", "code_expires_at": "code_expires_us", "last_code_at": "last_code_us",
              "used_at": "used_us"}
SESSION_TWINS = {"expires_at": "expires_us"}


class ExternalLinkDocument(Stored, total=False):
    _id: str
    token_hash: str  # the link's token, hashed (unique)
    request_id: str
    document_id: str
    entry_id: str  # the signer entry it acts for
    email: str
    delegate: bool  # for the entry's delegate rather than its participant
    state: str  # new, used, locked, or superseded by a newer link to the same person
    expires_at: datetime
    code_hash: str
    code_expires_at: datetime
    code_sends: int
    last_code_at: datetime | None  # None until the first code
    failures: int
    used_at: datetime
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
    expires_at: datetime
    created_at: datetime


class ExternalRepository(Repository[ExternalLinkDocument]):
    """The links (``collection``, with a revision guard and no events of their own: a link's events
    ride in its request's outbox) and the sessions (``sessions``)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db[LINKS])
        self.session_collection = db[SESSIONS]
        self.sessions = Collection[ExternalSessionDocument](self.session_collection).typed

    async def create_indexes(self) -> None:
        # links stored before the revision guard get one, then dates for integer microseconds
        await self.guard_older()
        await migrate_times(self.collection, list(LINK_TWINS), LINK_TWINS)
        await migrate_times(self.session_collection, list(SESSION_TWINS), SESSION_TWINS)
        await self.typed.create_index([("token_hash", ASCENDING)], unique=True)
        await self.typed.create_index([("request_id", ASCENDING)])
        await self.sessions.create_index([("request_id", ASCENDING)])

    async def insert_link(self, link: ExternalLinkDocument) -> None:
        await self.add(link)

    async def supersede(self, link_id: str, *, request_id: str, entry_id: str, delegate: bool) -> None:
        """The person's earlier unused links for the entry stop working: ``link_id`` replaces them
        (found through the request's index)."""
        await self.bump(
            {"request_id": request_id, "entry_id": entry_id, "delegate": delegate, "state": "new",
             "_id": {"$ne": link_id}},
            {"$set": {"state": "superseded", "superseded_by": link_id}}, many=True)

    async def link_by_hash(self, token_hash: str) -> ExternalLinkDocument | None:
        return await self.typed.find_one({"token_hash": token_hash})

    async def claim_code(self, link_id: str, *, code_hash: str, now: datetime, code_expires_at: datetime,
                         gap: timedelta, max_sends: int) -> ExternalLinkDocument | None:
        """Store a new code unless one went out less than ``gap`` ago or ``max_sends`` did."""

        async def attempt() -> Whole | None:
            link = await read_one(self.collection, {"_id": link_id, "state": "new"})
            if link is None or int(link.get("code_sends", 0)) >= max_sends:
                return None
            last = link.get("last_code_at")
            if last is not None and last > now - gap:
                return None
            return await self.update(link, {"code_hash": code_hash, "code_expires_at": code_expires_at,
                                            "last_code_at": now, "code_sends": int(link.get("code_sends", 0)) + 1})

        claimed = await retry_stale(attempt)
        return None if claimed is None else self.stored(claimed)

    async def count_failure(self, link_id: str, *, max_failures: int) -> ExternalLinkDocument | None:
        """One more wrong code; the link locks at ``max_failures``. Both raise ``outbox_rev``, so a
        spend holding the link as it was before reads it again."""
        counted = await take_one(self.collection, {"_id": link_id, "state": "new"}, guarded({"$inc": {"failures": 1}}))
        if counted is not None and int(counted["failures"]) >= max_failures:
            await self.bump({"_id": link_id, "state": "new"}, {"$set": {"state": "locked"}})
            counted["state"] = "locked"
        return None if counted is None else self.stored(counted)

    async def use(self, link_id: str, *, code_hash: str, now: datetime) -> bool:
        """Spend the link with the right, unexpired code: only one taker wins."""

        async def attempt() -> bool:
            link = await read_one(self.collection, {"_id": link_id, "state": "new"})
            if (link is None or not hmac.compare_digest(str(link.get("code_hash") or ""), code_hash)
                    or link.get("code_expires_at") is None or link["code_expires_at"] <= now):
                return False
            await self.update(link, {"state": "used", "used_at": now})
            return True

        return await retry_stale(attempt)

    async def insert_session(self, session: ExternalSessionDocument) -> None:
        await self.sessions.insert_one(session)

    async def session(self, session_hash: str) -> ExternalSessionDocument | None:
        return await self.sessions.find_one({"_id": session_hash})

    async def sessions_of(self, request_id: str) -> list[ExternalSessionDocument]:
        return await self.sessions.find({"request_id": request_id}).to_list()
