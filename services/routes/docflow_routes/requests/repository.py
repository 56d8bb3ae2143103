"""Signature requests and their signer entries (one document per signer, never an array)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypedDict

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.errors import Conflict
from docflow_shared.events import Event
from docflow_shared.faults import crash_point
from docflow_shared.mongo import Document, SetTime
from docflow_shared.outbox import Outbox, Whole, read_many, read_one
from docflow_shared.pagination import NEWEST_FIRST
from docflow_shared.repository import Collection, Repository, Stored

REQUESTS, SIGNERS = "signature_requests", "request_signers"
ACTIVE_SIGNER = ("pending", "signed", "approved")
ACTIVE_REQUEST = ("open", "completed")


class SignatureRequestDocument(Stored, total=False):
    """A signature request (``signature_requests``); its signers are ``SignerDocument``s. Its
    times are written by insert and guarded replacement (``update``), so they stay dates."""

    _id: str
    document_id: str
    owner_id: str
    open_key: str  # the document id while open (unique), ``closed:<id>`` after
    order: str  # ``parallel`` or ``sequential``
    message: str
    expires_at: datetime | None
    hide_signatures: bool
    status: str  # a RequestStatus
    created_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    signer_count: int
    stage_rules: list[str]  # ``all`` or ``any``, one per stage
    current_stage: int | None
    reminder_seconds: float | None  # the owner's interval, else the service's
    reminders_sent: int
    next_reminder_at: datetime | None
    access: list[dict[str, Any]]  # who may read the document through the route (``access.snapshot``)
    access_version: int


class SignatureWithoutRightDocument(TypedDict):
    signature_id: str
    signed_at: datetime  # a date inside the list a ``$set`` writes stays a date
    signer_role: str | None


class SignerDocument(TypedDict, total=False):
    """One participant of a request (``request_signers``), one document each. Its state changes
    are ``$set`` under a status guard, so the times they write are ``SetTime``."""

    _id: str  # ``<request id>:<position>``
    request_id: str
    document_id: str
    user_id: str | None  # None until an account proves ``email_key``
    email: str
    email_key: str  # the address as compared (lower case)
    full_name: str
    position: int
    stage: int
    role: str  # approve, sign or cc
    status: str  # a SignerStatus
    external: bool  # may take part through a link while no account has proven the address
    require_sign_right: bool
    created_at: datetime
    signed_at: SetTime | None
    signature_id: str | None
    acted_by: str | None
    acted_at: SetTime | None
    decline_reason: str | None
    delegate_email: str | None
    delegate_user_id: str | None
    delegate_until: SetTime | None
    standing_deputy: bool  # handed to the user's standing deputy when the request was made
    signatures_without_sign_right: list[SignatureWithoutRightDocument]


# a request as a function that only reads it takes it: typed, or whole (read to be changed)
StoredRequest = SignatureRequestDocument | Whole


class SignatureRequestRepository(Repository[SignatureRequestDocument]):
    def __init__(self, db: AsyncDatabase[Document], outbox: Outbox) -> None:
        super().__init__(db[REQUESTS], outbox)
        self.requests = self.collection
        self.signers = Collection[SignerDocument](db[SIGNERS]).typed

    async def create_indexes(self) -> None:
        await self.requests.create_index([("open_key", ASCENDING)], unique=True)
        await self.requests.create_index([("document_id", ASCENDING), ("status", ASCENDING)])
        await self.requests.create_index([("status", ASCENDING), ("next_reminder_at", ASCENDING)])
        await self.requests.create_index([("status", ASCENDING), ("expires_at", ASCENDING)])
        await self.requests.create_index([("owner_id", ASCENDING), ("status", ASCENDING)])
        await self.signers.create_index([("request_id", ASCENDING)])
        await self.signers.create_index([("user_id", ASCENDING)])
        await self.signers.create_index([("email_key", ASCENDING)])
        await self.signers.create_index([("document_id", ASCENDING), ("user_id", ASCENDING)])
        await self.signers.create_index([("delegate_user_id", ASCENDING)])

    # --- requests ------------------------------------------------------------------------------

    async def insert(self, request: SignatureRequestDocument, signers: Sequence[SignerDocument],
                     events: Sequence[Event]) -> None:
        """Signer entries first, then the request with its events.

        An entry left without its request by a crash grants nothing: ``is_participant`` and every
        listing look the request up, and an orphan has none.

        ``open_key`` (unique) holds the document id while the request is open: a second open
        request for the same document fails with 409 even when two owners' requests race.
        """
        await self.signers.insert_many(list(signers))
        crash_point("routes.request.after_signers")
        try:
            await self.add({**request, "open_key": request["document_id"]}, events)
        except DuplicateKeyError as exc:
            await self.signers.delete_many({"request_id": request["_id"]})
            raise Conflict("The document already has an open signature request.", slug="request-open") from exc

    async def update(self, current: Whole, changes: Mapping[str, Any], events: Sequence[Event] = (), *,
                     unset: Sequence[str] = (), purge_when_published: bool = False) -> Whole:
        """Guarded by ``outbox_rev``; raises StaleDocument when it lost a race."""
        if changes.get("status", "open") != "open":
            changes = {**changes, "open_key": f"closed:{current['_id']}"}
        return await super().update(current, changes, events, unset=unset,
                                    purge_when_published=purge_when_published)

    async def open_for_document(self, document_id: str) -> Whole | None:
        return await read_one(self.requests, {"document_id": document_id, "status": "open"})

    async def open_with_hidden_signatures(self, document_id: str) -> bool:
        found = await self.requests.find_one(
            {"document_id": document_id, "status": "open", "hide_signatures": True}, {"_id": 1}
        )
        return found is not None

    async def page_for_document(self, document_id: str, *, after: dict[str, Any],
                                limit: int) -> list[SignatureRequestDocument]:
        query: dict[str, Any] = {"document_id": document_id, **after}
        return await self.typed.find(query).sort(NEWEST_FIRST.sort).limit(limit).to_list()

    async def many(self, request_ids: Sequence[str]) -> dict[str, SignatureRequestDocument]:
        found = await self.typed.find({"_id": {"$in": list(request_ids)}}).to_list()
        return {r["_id"]: r for r in found}

    async def open_for_documents(self, document_id: str) -> list[SignatureRequestDocument]:
        return await self.typed.find({"document_id": document_id, "status": "open"}).to_list()

    async def open_owned_by(self, owner_id: str) -> list[SignatureRequestDocument]:
        return await self.typed.find({"owner_id": owner_id, "status": "open"}).to_list()

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[Whole]:
        return await read_many(self.requests, {"status": "open", "next_reminder_at": {"$lte": now}}, limit=limit)

    async def expired(self, now: datetime, limit: int = 100) -> list[Whole]:
        return await read_many(self.requests, {"status": "open", "expires_at": {"$lte": now}}, limit=limit)

    async def open_requests(self, *, after: str | None, limit: int = 100) -> list[Document]:  # ids only
        """Open requests in id order after ``after`` (a rotating pass over all of them)."""
        query: dict[str, Any] = {"status": "open"}
        if after:
            query["_id"] = {"$gt": after}
        return await self.requests.find(query, {"_id": 1}).sort("_id", ASCENDING).limit(limit).to_list()

    # --- signer entries ------------------------------------------------------------------------

    async def signers_of(self, request_id: str) -> list[SignerDocument]:
        entries = await self.signers.find({"request_id": request_id}).to_list()
        return sorted(entries, key=lambda e: int(e["position"]))

    async def signers_of_many(self, request_ids: Sequence[str]) -> dict[str, list[SignerDocument]]:
        entries = await self.signers.find({"request_id": {"$in": list(request_ids)}}).to_list()
        grouped: dict[str, list[SignerDocument]] = {rid: [] for rid in request_ids}
        for entry in entries:
            grouped.setdefault(entry["request_id"], []).append(entry)
        for group in grouped.values():
            group.sort(key=lambda e: int(e["position"]))
        return grouped

    async def is_participant(self, document_id: str, user_id: str) -> bool:
        """An active signer: a pending or signed entry of an open or completed request.

        Removed signers and signers of cancelled or expired requests lose access, and so does an
        entry whose request was never written (a crash between the two writes of ``insert``):
        access is granted by the request, never by a signer entry alone (docs/architecture.md).
        """
        entries = await self.signers.find(
            {"document_id": document_id, "user_id": user_id, "status": {"$in": list(ACTIVE_SIGNER)}},
            {"request_id": 1},
        ).to_list()
        if not entries:
            return False
        found = await self.requests.find_one(
            {"_id": {"$in": [e["request_id"] for e in entries]}, "document_id": document_id,
             "status": {"$in": list(ACTIVE_REQUEST)}},
            {"_id": 1},
        )
        return found is not None

    async def entries_of_user(self, user_id: str, *, statuses: Sequence[str], after: dict[str, Any],
                              limit: int) -> list[SignerDocument]:
        query: dict[str, Any] = {"user_id": user_id, "status": {"$in": list(statuses)}, **after}
        return await self.signers.find(query).sort(NEWEST_FIRST.sort).limit(limit).to_list()

    async def pending_entries_of(self, user_id: str) -> list[SignerDocument]:
        return await self.signers.find({"user_id": user_id, "status": "pending"}).to_list()

    async def mark_signed(self, entry_id: str, *, signature_id: str, at: datetime, by: str | None = None) -> bool:
        result = await self.signers.update_one(
            {"_id": entry_id, "status": "pending"},
            {"$set": {"status": "signed", "signature_id": signature_id, "signed_at": at, "acted_by": by}},
        )
        return result.modified_count > 0

    async def note_without_sign_right(self, entry_id: str, records: list[SignatureWithoutRightDocument]) -> None:
        """Keep the signatures that lacked the right to sign under their (still pending) entry: the
        whole list, which settling recomputes from the recorded signatures, so writing it twice is harmless."""
        await self.signers.update_one({"_id": entry_id, "status": "pending"},
                                      {"$set": {"signatures_without_sign_right": records}})

    async def mark_acted(self, entry_id: str, *, status: str, by: str, at: datetime,
                         reason: str | None = None) -> bool:
        """A pending entry approved or declined (once: a second action finds it no longer pending)."""
        result = await self.signers.update_one(
            {"_id": entry_id, "status": "pending"},
            {"$set": {"status": status, "acted_by": by, "acted_at": at, "decline_reason": reason}},
        )
        return result.modified_count > 0

    async def delegate(self, entry_id: str, *, email: str, user_id: str | None, until: datetime | None) -> bool:
        """Hand a pending entry to a delegate; False when it was no longer pending or already handed on."""
        result = await self.signers.update_one(
            {"_id": entry_id, "status": "pending", "delegate_email": None},
            {"$set": {"delegate_email": email, "delegate_user_id": user_id, "delegate_until": until}},
        )
        return result.modified_count > 0

    async def delegated_to(self, user_id: str, document_id: str) -> list[SignerDocument]:
        return await self.signers.find({"delegate_user_id": user_id, "document_id": document_id}).to_list()

    async def waiting_for(self, address: str) -> list[SignerDocument]:
        """Entries addressed to ``address`` that no account has proven yet, whatever their state:
        what an outsider did through a link becomes the account's history once it proves the address."""
        return await self.signers.find({"email_key": address, "user_id": None}).to_list()

    async def bind(self, entry_id: str, *, user_id: str, full_name: str) -> bool:
        """Give a waiting entry to the account that proved its address; False if taken already."""
        result = await self.signers.update_one({"_id": entry_id, "user_id": None},
                                               {"$set": {"user_id": user_id, "full_name": full_name}})
        return result.modified_count > 0

    async def mark_removed(self, entry_id: str) -> None:
        await self.signers.update_one({"_id": entry_id, "status": "pending"}, {"$set": {"status": "removed"}})
