"""Signature requests and their signer entries (one document per signer, never an array)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.errors import Conflict
from docflow_shared.events import Event
from docflow_shared.faults import crash_point
from docflow_shared.mongo import Document
from docflow_shared.outbox import Outbox, Whole, read_many, read_one
from docflow_shared.pagination import NEWEST_FIRST

REQUESTS, SIGNERS = "signature_requests", "request_signers"
ACTIVE_SIGNER = ("pending", "signed", "approved")
ACTIVE_REQUEST = ("open", "completed")


class SignatureRequestRepository:
    def __init__(self, db: AsyncDatabase[Document], outbox: Outbox) -> None:
        self.requests = db[REQUESTS]
        self.signers = db[SIGNERS]
        self.outbox = outbox

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

    async def insert(self, request: Document, signers: Sequence[Document], events: Sequence[Event]) -> None:
        """Signer entries first, then the request with its events.

        An entry left without its request by a crash grants nothing: ``is_participant`` and every
        listing look the request up, and an orphan has none.

        ``open_key`` (unique) holds the document id while the request is open: a second open
        request for the same document fails with 409 even when two owners' requests race.
        """
        await self.signers.insert_many(list(signers))
        crash_point("routes.request.after_signers")
        try:
            await self.outbox.insert(self.requests, {**request, "open_key": request["document_id"]}, events)
        except DuplicateKeyError as exc:
            await self.signers.delete_many({"request_id": request["_id"]})
            raise Conflict("The document already has an open signature request.", slug="request-open") from exc

    async def update(self, request: Whole, changes: Mapping[str, Any],
                     events: Sequence[Event] = ()) -> Whole:
        """Guarded by ``outbox_rev``; raises StaleDocument when it lost a race."""
        if changes.get("status", "open") != "open":
            changes = {**changes, "open_key": f"closed:{request['_id']}"}
        return await self.outbox.update(self.requests, request, changes, events)

    async def get(self, request_id: str) -> Whole | None:
        return await read_one(self.requests, {"_id": request_id})

    async def open_for_document(self, document_id: str) -> Whole | None:
        return await read_one(self.requests, {"document_id": document_id, "status": "open"})

    async def open_with_hidden_signatures(self, document_id: str) -> bool:
        found = await self.requests.find_one(
            {"document_id": document_id, "status": "open", "hide_signatures": True}, {"_id": 1}
        )
        return found is not None

    async def page_for_document(self, document_id: str, *, after: dict[str, Any], limit: int) -> list[Document]:
        query: dict[str, Any] = {"document_id": document_id, **after}
        return await self.requests.find(query).sort(NEWEST_FIRST.sort).limit(limit).to_list()

    async def many(self, request_ids: Sequence[str]) -> dict[str, Document]:
        found = await self.requests.find({"_id": {"$in": list(request_ids)}}).to_list()
        return {r["_id"]: r for r in found}

    async def open_for_documents(self, document_id: str) -> list[Document]:
        return await self.requests.find({"document_id": document_id, "status": "open"}).to_list()

    async def open_owned_by(self, owner_id: str) -> list[Document]:
        return await self.requests.find({"owner_id": owner_id, "status": "open"}).to_list()

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[Whole]:
        return await read_many(self.requests, {"status": "open", "next_reminder_at": {"$lte": now}}, limit=limit)

    async def expired(self, now: datetime, limit: int = 100) -> list[Whole]:
        return await read_many(self.requests, {"status": "open", "expires_at": {"$lte": now}}, limit=limit)

    async def open_requests(self, *, after: str | None, limit: int = 100) -> list[Document]:
        """Open requests in id order after ``after`` (a rotating pass over all of them)."""
        query: dict[str, Any] = {"status": "open"}
        if after:
            query["_id"] = {"$gt": after}
        return await self.requests.find(query, {"_id": 1}).sort("_id", ASCENDING).limit(limit).to_list()

    # --- signer entries ------------------------------------------------------------------------

    async def signers_of(self, request_id: str) -> list[Document]:
        entries = await self.signers.find({"request_id": request_id}).to_list()
        return sorted(entries, key=lambda e: int(e["position"]))

    async def signers_of_many(self, request_ids: Sequence[str]) -> dict[str, list[Document]]:
        entries = await self.signers.find({"request_id": {"$in": list(request_ids)}}).to_list()
        grouped: dict[str, list[Document]] = {rid: [] for rid in request_ids}
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
                              limit: int) -> list[Document]:
        query: dict[str, Any] = {"user_id": user_id, "status": {"$in": list(statuses)}, **after}
        return await self.signers.find(query).sort(NEWEST_FIRST.sort).limit(limit).to_list()

    async def pending_entries_of(self, user_id: str) -> list[Document]:
        return await self.signers.find({"user_id": user_id, "status": "pending"}).to_list()

    async def mark_signed(self, entry_id: str, *, signature_id: str, at: datetime, by: str | None = None) -> bool:
        result = await self.signers.update_one(
            {"_id": entry_id, "status": "pending"},
            {"$set": {"status": "signed", "signature_id": signature_id, "signed_at": at, "acted_by": by}},
        )
        return result.modified_count > 0

    async def note_without_sign_right(self, entry_id: str, records: list[dict[str, Any]]) -> None:
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

    async def delegated_to(self, user_id: str, document_id: str) -> list[Document]:
        return await self.signers.find({"delegate_user_id": user_id, "document_id": document_id}).to_list()

    async def waiting_for(self, address: str) -> list[Document]:
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
