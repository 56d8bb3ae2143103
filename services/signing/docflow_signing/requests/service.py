"""Signature requests: creation, turn order, completion, cancellation, reminders and expiry."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from docflow_shared.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from docflow_shared.events import Event, EventPayload
from docflow_shared.mongo import Document
from docflow_shared.outbox import StaleDocument, retry_stale
from docflow_shared.pagination import Page, decode_cursor, encode_cursor
from docflow_signing.crypto.certificates import now_utc
from docflow_signing.ids import new_id, well_formed
from docflow_signing.projection.access import DocumentAccess, document_access
from docflow_signing.projection.repository import ProjectionRepository, person_of
from docflow_signing.requests import events
from docflow_signing.requests.repository import SignatureRequestRepository
from docflow_signing.requests.schemas import (
    AssignedRequestRead,
    SignatureRequestCreate,
    SignatureRequestRead,
    SignerRead,
)
from docflow_signing.signatures.repository import SignatureRepository

logger = logging.getLogger(__name__)

PREFIX = "srq"
NO_POSITION = -1


@dataclass(frozen=True, slots=True)
class SigningTurn:
    """The open request a signature is made for, and the caller's entry in it."""

    request: Document
    entry: Document


class SignatureRequestService:
    def __init__(self, *, repository: SignatureRequestRepository, projection: ProjectionRepository,
                 signatures: SignatureRepository, make_event: Callable[[EventPayload], Event],
                 reminder_seconds: float) -> None:
        self.repository = repository
        self.projection = projection
        self.signatures = signatures
        self.make_event = make_event
        self.reminder = timedelta(seconds=reminder_seconds)
        self._repair_after: str | None = None

    # --- API -----------------------------------------------------------------------------------

    async def create(self, *, user_id: str, document_id: str, body: SignatureRequestCreate) -> SignatureRequestRead:
        access = await self.visible_document(document_id, user_id)
        if not access.is_owner:
            raise Forbidden("Only the owner can ask for signatures.", slug="not-owner")
        now = now_utc()
        if body.expires_at is not None and body.expires_at <= now:
            raise Unprocessable("expires_at lies in the past.",
                                errors=[field_error("expires_at", "must be in the future")])
        if await self.projection.file_count(document_id) == 0:
            raise Unprocessable("The document has no file to sign.", slug="no-files")
        users = await self.projection.users_by_email(body.signers)
        unknown = [(i, e) for i, e in enumerate(body.signers) if e.lower() not in users]
        if unknown:
            raise Unprocessable("Some signers are not DocFlow users.", errors=[
                field_error(["signers", i], f"no user with e-mail {e}", "unknown_user") for i, e in unknown
            ])
        if await self.repository.open_for_document(document_id):
            raise Conflict("The document already has an open signature request.", slug="request-open")
        request_id = new_id(PREFIX)
        sequential = body.order == "sequential"
        request: Document = {
            "_id": request_id, "document_id": document_id, "owner_id": user_id, "order": body.order,
            "message": body.message, "expires_at": body.expires_at,
            "hide_signatures": body.hide_signatures_until_complete, "status": "open", "created_at": now,
            "closed_at": None, "close_reason": None, "signer_count": len(body.signers),
            "current_position": 0 if sequential else NO_POSITION, "next_reminder_at": now + self.reminder,
        }
        entries = [
            {"_id": f"{request_id}:{position:03d}", "request_id": request_id, "document_id": document_id,
             "user_id": str(users[email.lower()]["_id"]), "email": users[email.lower()]["email"],
             "full_name": users[email.lower()].get("full_name") or "", "position": position,
             "status": "pending", "signed_at": None, "signature_id": None, "created_at": now}
            for position, email in enumerate(body.signers)
        ]
        owner = await self.projection.person(user_id)
        notify = entries[:1] if sequential else entries
        to_send = [
            self.make_event(events.requested(request, title=access.title, owner=owner,
                                             signer=person_of(users[e["email"].lower()])))
            for e in notify
        ]
        await self.repository.insert(request, entries, to_send)
        return self._read(request, entries, viewer=user_id)

    async def list_for_document(self, *, user_id: str, document_id: str, limit: int,
                                cursor: str | None) -> Page[SignatureRequestRead]:
        await self.visible_document(document_id, user_id)
        before = (decode_cursor(cursor) or {}).get("before")
        docs = await self.repository.page_for_document(document_id, before=str(before) if before else None,
                                                       limit=limit + 1)
        more, docs = len(docs) > limit, docs[:limit]
        grouped = await self.repository.signers_of_many([d["_id"] for d in docs])
        items = [self._read(d, grouped.get(d["_id"], []), viewer=user_id) for d in docs]
        return Page[SignatureRequestRead](
            items=items, next_cursor=encode_cursor({"before": docs[-1]["_id"]}) if more and docs else None
        )

    async def cancel(self, *, user_id: str, document_id: str, request_id: str) -> SignatureRequestRead:
        access = await self.visible_document(document_id, user_id)
        request = await self._request_on(document_id, request_id)
        if not access.is_owner:
            raise Forbidden("Only the owner can cancel the request.", slug="not-owner")

        async def attempt() -> Document:
            current = await self._request_on(document_id, request_id)
            if current["status"] != "open":
                raise Conflict(f"The request is already {current['status']}.", slug="request-closed")
            entries = await self.repository.signers_of(request_id)
            event = self.make_event(events.cancelled(current, [e["user_id"] for e in entries]))
            return await self.repository.update(
                current, {"status": "cancelled", "closed_at": now_utc(), "close_reason": "cancelled"}, [event]
            )

        request = await retry_stale(attempt)
        return self._read(request, await self.repository.signers_of(request_id), viewer=user_id)

    async def assigned(self, *, user_id: str, limit: int, cursor: str | None,
                       include_closed: bool) -> Page[AssignedRequestRead]:
        before = (decode_cursor(cursor) or {}).get("before")
        statuses = ["pending", "signed", "removed"] if include_closed else ["pending"]
        entries = await self.repository.entries_of_user(
            user_id, statuses=statuses, before=str(before) if before else None, limit=limit + 1
        )
        more, entries = len(entries) > limit, entries[:limit]
        requests = await self.repository.many([e["request_id"] for e in entries])
        grouped = await self.repository.signers_of_many(list(requests))
        items = []
        for entry in entries:
            request = requests.get(entry["request_id"])
            if request is None or (not include_closed and request["status"] != "open"):
                continue
            document = await self.projection.document(request["document_id"])
            owner = await self.projection.person(request["owner_id"])
            items.append(AssignedRequestRead(
                request_id=request["_id"], document_id=request["document_id"],
                document_title=str((document or {}).get("title") or ""), owner_id=request["owner_id"],
                owner_name=owner.full_name or owner.email, order=request["order"],
                message=request.get("message") or "", expires_at=request.get("expires_at"),
                status=request["status"], position=int(entry["position"]), signer_status=entry["status"],
                your_turn=_your_turn(request, grouped.get(request["_id"], []), entry),
                created_at=request["created_at"],
            ))
        next_cursor = encode_cursor({"before": entries[-1]["_id"]}) if more and entries else None
        return Page[AssignedRequestRead](items=items, next_cursor=next_cursor)

    # --- used by signatures --------------------------------------------------------------------

    async def visible_document(self, document_id: str, user_id: str) -> DocumentAccess:
        """Access to a document the caller may see (owner, grant or requested signer); else 404."""
        access = await document_access(self.projection, document_id, user_id)
        if not access.can_see and not await self.repository.is_participant(document_id, user_id):
            raise NotFound("Document not found.")
        return access

    async def signing_turn(self, document_id: str, user_id: str) -> SigningTurn | None:
        """The caller's pending entry in the document's open request; 409 when out of turn."""
        request = await self.repository.open_for_document(document_id)
        if request is None or _expired(request, now_utc()):
            return None
        entries = await self.repository.signers_of(request["_id"])
        mine = [e for e in entries if e["user_id"] == user_id and e["status"] == "pending"]
        if not mine:
            return None
        if not _your_turn(request, entries, mine[0]):
            raise Conflict("It is not your turn to sign this document yet.", slug="out-of-turn")
        return SigningTurn(request, mine[0])

    async def hides_signatures_from(self, access: DocumentAccess) -> bool:
        """Whether the caller sees only their own signatures (open request with hidden signatures)."""
        return not access.is_owner and await self.repository.open_with_hidden_signatures(access.document_id)

    async def record_signature(self, turn: SigningTurn, signature_id: str) -> None:
        await self.repository.mark_signed(turn.entry["_id"], signature_id=signature_id, at=now_utc())
        await self.settle(turn.request["_id"])

    # --- state transitions ---------------------------------------------------------------------

    async def settle(self, request_id: str) -> None:
        """Bring an open request up to date: notify the next signer, or complete it."""

        async def attempt() -> None:
            request = await self.repository.get(request_id)
            if request is None or request["status"] != "open":
                return
            entries = await self.repository.signers_of(request_id)
            for entry in entries:
                if entry["status"] == "pending":
                    found = await self.signatures.for_request(request_id, entry["user_id"])
                    if found is not None:
                        await self.repository.mark_signed(entry["_id"], signature_id=found["_id"],
                                                          at=found["created_at"])
                        entry.update(status="signed", signature_id=found["_id"])
            pending = [e for e in entries if e["status"] == "pending"]
            signed = [e for e in entries if e["status"] == "signed"]
            document = await self.projection.document(request["document_id"])
            title = str((document or {}).get("title") or "")
            now = now_utc()
            if not pending:
                if signed:
                    owner = await self.projection.person(request["owner_id"])
                    participants = [owner] + [
                        await self.projection.person(e["user_id"]) for e in signed if e["user_id"] != owner.user_id
                    ]
                    done = events.completed(request, title=title, owner=owner, participants=participants, at=now)
                    await self.repository.update(
                        request, {"status": "completed", "closed_at": now, "close_reason": "completed"},
                        [self.make_event(done)],
                    )
                else:
                    await self._close(request, "cancelled", "no signers left", entries)
                return
            position = int(pending[0]["position"])
            if request["order"] == "sequential" and int(request.get("current_position", 0)) != position:
                owner = await self.projection.person(request["owner_id"])
                signer = await self.projection.person(pending[0]["user_id"])
                turn = events.requested(request, title=title, owner=owner, signer=signer)
                await self.repository.update(
                    request, {"current_position": position, "next_reminder_at": now + self.reminder},
                    [self.make_event(turn)],
                )

        await retry_stale(attempt)

    async def _close(self, request: Document, status: str, reason: str, entries: list[Document]) -> None:
        event = self.make_event(events.cancelled(request, [e["user_id"] for e in entries]))
        await self.repository.update(
            request, {"status": status, "closed_at": now_utc(), "close_reason": reason}, [event]
        )

    async def close_for_deleted_document(self, document_id: str) -> None:
        for request in await self.repository.open_for_documents(document_id):
            await self._close_quietly(request, "document deleted")

    async def remove_signer_everywhere(self, user_id: str) -> None:
        """A deleted user leaves every open request; their own open requests are cancelled."""
        for entry in await self.repository.pending_entries_of(user_id):
            await self.repository.mark_removed(entry["_id"])
            await self.settle(entry["request_id"])
        for request in await self.repository.open_owned_by(user_id):
            await self._close_quietly(request, "owner deleted")

    async def _close_quietly(self, request: Document, reason: str) -> None:
        async def attempt() -> None:
            current = await self.repository.get(request["_id"])
            if current is None or current["status"] != "open":
                return
            await self._close(current, "cancelled", reason, await self.repository.signers_of(current["_id"]))

        await retry_stale(attempt)

    async def tick(self) -> None:
        """One pass of the background loop: expire, remind, and settle the next batch of open requests
        (which repairs a signature stored without its signer entry being marked, e.g. after a crash)."""
        now = now_utc()
        for request in await self.repository.expired(now):
            await self._expire(request, now)
        for request in await self.repository.due_reminders(now):
            await self._remind(request, now)
        batch = await self.repository.open_requests(after=self._repair_after)
        for request in batch:
            await self.settle(request["_id"])
        self._repair_after = batch[-1]["_id"] if len(batch) == 100 else None

    async def _expire(self, request: Document, now: datetime) -> None:
        entries = await self.repository.signers_of(request["_id"])
        pending = [await self.projection.person(e["user_id"]) for e in entries if e["status"] == "pending"]
        document = await self.projection.document(request["document_id"])
        owner = await self.projection.person(request["owner_id"])
        event = events.expired(request, title=str((document or {}).get("title") or ""), owner=owner,
                               pending=pending)
        try:
            await self.repository.update(
                request, {"status": "expired", "closed_at": now, "close_reason": "expired"},
                [self.make_event(event)],
            )
        except StaleDocument:
            logger.info("request %s changed while expiring; the next pass retries", request["_id"])

    async def _remind(self, request: Document, now: datetime) -> None:
        entries = await self.repository.signers_of(request["_id"])
        due = [e for e in entries if e["status"] == "pending" and _your_turn(request, entries, e)]
        document = await self.projection.document(request["document_id"])
        title = str((document or {}).get("title") or "")
        owner = await self.projection.person(request["owner_id"])
        reminders = [
            self.make_event(events.requested(request, title=title, owner=owner,
                                             signer=await self.projection.person(e["user_id"]), reminder=True))
            for e in due
        ]
        try:
            await self.repository.update(request, {"next_reminder_at": now + self.reminder}, reminders)
        except StaleDocument:
            logger.info("request %s changed while reminding; the next pass retries", request["_id"])

    # --- reading -------------------------------------------------------------------------------

    async def _request_on(self, document_id: str, request_id: str) -> Document:
        request = await self.repository.get(request_id) if well_formed(request_id, PREFIX) else None
        if request is None or request["document_id"] != document_id:
            raise NotFound("Signature request not found.")
        return request

    def _read(self, request: Document, entries: list[Document], *, viewer: str) -> SignatureRequestRead:
        hidden = (bool(request.get("hide_signatures")) and request["status"] == "open"
                  and viewer != request["owner_id"])
        signers = []
        for e in entries:
            undisclosed = hidden and e["user_id"] != viewer
            signers.append(SignerRead(
                user_id=e["user_id"], email=e["email"], full_name=e.get("full_name") or "",
                position=int(e["position"]), status="undisclosed" if undisclosed else e["status"],
                signed_at=None if undisclosed else e.get("signed_at"),
                signature_id=None if undisclosed else e.get("signature_id"),
            ))
        return SignatureRequestRead(
            id=request["_id"], document_id=request["document_id"], owner_id=request["owner_id"],
            order=request["order"], message=request.get("message") or "", expires_at=request.get("expires_at"),
            hide_signatures_until_complete=bool(request.get("hide_signatures")), status=request["status"],
            created_at=request["created_at"], closed_at=request.get("closed_at"), signers=signers,
        )


def _expired(request: Document, now: datetime) -> bool:
    expires_at = request.get("expires_at")
    return expires_at is not None and expires_at <= now


def _your_turn(request: Document, entries: list[Document], entry: Document) -> bool:
    if entry["status"] != "pending" or request["status"] != "open":
        return False
    if request["order"] != "sequential":
        return True
    first_pending = min(int(e["position"]) for e in entries if e["status"] == "pending")
    return int(entry["position"]) == first_pending
