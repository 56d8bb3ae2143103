"""Signature requests as their owner and signers see them: creation, cancellation, listing, turns.

What happens to an open request afterwards is ``requests.lifecycle``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta

from docflow_routes.deputies.service import DeputyService
from docflow_routes.ids import REQUEST_PREFIX
from docflow_routes.projection.repository import ProjectionRepository
from docflow_routes.requests import events
from docflow_routes.requests.access import access_changed, snapshot, with_access
from docflow_routes.requests.lifecycle import RequestLifecycle, title_of, user_ids
from docflow_routes.requests.repository import (
    SignatureRequestDocument,
    SignatureRequestRepository,
    SignerDocument,
    StoredRequest,
)
from docflow_routes.requests.schemas import (
    AssignedRequestRead,
    SignatureRequestCreate,
    SignatureRequestRead,
    SignatureWithoutRight,
    SignerRead,
)
from docflow_routes.requests.stages import open_stage, role_of, rules_of, stage_of, your_turn
from docflow_shared.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from docflow_shared.events import Event, EventPayload
from docflow_shared.events.catalogue import RouteActionOrigin
from docflow_shared.ids import new_id, well_formed
from docflow_shared.mongo import Document, utc_now
from docflow_shared.outbox import Whole, retry_stale
from docflow_shared.pagination import NEWEST_FIRST, Page
from docflow_shared.projection.access import DocumentAccess, document_access
from docflow_shared.projection.repository import email_key


@dataclass(kw_only=True, eq=False)
class SignatureRequestService:
    repository: SignatureRequestRepository
    projection: ProjectionRepository
    lifecycle: RequestLifecycle
    deputies: DeputyService
    make_event: Callable[[EventPayload], Event]
    reminder_seconds: InitVar[float]
    reminder_min_seconds: float
    reminder: timedelta = field(init=False)

    def __post_init__(self, reminder_seconds: float) -> None:
        self.reminder = timedelta(seconds=reminder_seconds)

    # --- API -----------------------------------------------------------------------------------

    async def create(self, *, user_id: str, document_id: str, body: SignatureRequestCreate,
                     origin: RouteActionOrigin) -> SignatureRequestRead:
        access = await self.visible_document(document_id, user_id)
        if not access.is_owner:
            raise Forbidden("Only the owner can ask for signatures.", slug="not-owner")
        now = utc_now()
        if body.expires_at is not None and body.expires_at <= now:
            raise Unprocessable("expires_at lies in the past.",
                                errors=[field_error("expires_at", "must be in the future")])
        if body.reminder_seconds is not None and body.reminder_seconds < self.reminder_min_seconds:
            raise Unprocessable("Reminders cannot come that often.", errors=[field_error(
                "reminder_seconds", f"must be at least {self.reminder_min_seconds:g}")])
        if await self.projection.file_count(document_id) == 0:
            raise Unprocessable("The document has no file to sign.", slug="no-files")
        route = body.route()
        users = await self.projection.users_by_email([email for _, _, email in route])
        if await self.repository.open_for_document(document_id):
            raise Conflict("The document already has an open signature request.", slug="request-open")
        request_id = new_id(REQUEST_PREFIX)
        request: SignatureRequestDocument = {
            "_id": request_id, "document_id": document_id, "owner_id": user_id, "order": body.order,
            "message": body.message, "expires_at": body.expires_at,
            "hide_signatures": body.hide_signatures_until_complete, "status": "open", "created_at": now,
            "closed_at": None, "close_reason": None, "signer_count": len(route), "stage_rules": body.rules(),
            "reminder_seconds": body.reminder_seconds, "reminders_sent": 0,
            "next_reminder_at": now + (timedelta(seconds=body.reminder_seconds) if body.reminder_seconds
                                       else self.reminder),
        }
        outsiders = body.outsiders()
        entries = [_entry(request, position, stage, role, email, users.get(email_key(email)), now,
                          external=email_key(email) in outsiders,
                          require_sign_right=role == "sign" and body.sign_right_required(stage))
                   for position, (stage, role, email) in enumerate(route)]
        await self.deputies.hand_over(entries, now)
        request["current_stage"] = open_stage(request, entries)
        request["access"] = snapshot(request, "open", entries)
        request["access_version"] = 1
        to_send = [] if request["current_stage"] is None else await self.lifecycle.opening(
            request, entries, int(request["current_stage"]))
        owner = await self.projection.person(user_id)
        to_send.insert(0, self.make_event(events.created(
            request, title=access.title, owner=owner, entries=entries,
            people={e["_id"]: await self.lifecycle.person_of(e) for e in entries}, origin=origin)))
        to_send += await self.deputies.announce(request, entries, title=access.title)
        to_send.append(self.make_event(access_changed(request, request["access"], version=1, status="open")))
        await self.repository.insert(request, entries, to_send)
        if await self._bind_if_proven_meanwhile(entries):
            entries = await self.repository.signers_of(request_id)
        return self._read(request, entries, viewer=user_id)

    async def _bind_if_proven_meanwhile(self, entries: list[SignerDocument]) -> bool:
        """An address proven while its request was being stored: the verification looked for
        waiting entries before these existed, so look again now that they do."""
        waiting = [e["email_key"] for e in entries if e["user_id"] is None]
        if not waiting:
            return False
        proven = await self.projection.users_by_email(waiting)
        for key, user in proven.items():
            await self.lifecycle.bind_waiting_signer(str(user["_id"]), key)
        return bool(proven)

    async def list_for_document(self, *, user_id: str, document_id: str, limit: int,
                                cursor: str | None) -> Page[SignatureRequestRead]:
        await self.visible_document(document_id, user_id)
        docs = await self.repository.page_for_document(document_id, after=NEWEST_FIRST.after(cursor), limit=limit + 1)
        docs, next_cursor = NEWEST_FIRST.page(docs, limit)
        grouped = await self.repository.signers_of_many([d["_id"] for d in docs])
        items = [self._read(d, grouped.get(d["_id"], []), viewer=user_id) for d in docs]
        return Page[SignatureRequestRead](items=items, next_cursor=next_cursor)

    async def cancel(self, *, user_id: str, document_id: str, request_id: str) -> SignatureRequestRead:
        access = await self.visible_document(document_id, user_id)
        request = await self._request_on(document_id, request_id)
        if not access.is_owner:
            raise Forbidden("Only the owner can cancel the request.", slug="not-owner")

        async def attempt() -> Whole:
            current = await self._request_on(document_id, request_id)
            if current["status"] != "open":
                raise Conflict(f"The request is already {current['status']}.", slug="request-closed")
            entries = await self.repository.signers_of(request_id)
            event = self.make_event(events.cancelled(current, user_ids(entries)))
            changes, access_events = with_access(
                current, entries, {"status": "cancelled", "closed_at": utc_now(), "close_reason": "cancelled"},
                self.make_event)
            revoked = await self.lifecycle.external.revocations(request_id)
            return await self.repository.update(current, changes, [event, *access_events, *revoked])

        request = await retry_stale(attempt)
        return self._read(request, await self.repository.signers_of(request_id), viewer=user_id)

    async def assigned(self, *, user_id: str, limit: int, cursor: str | None,
                       include_closed: bool) -> Page[AssignedRequestRead]:
        statuses = ["pending", "signed", "approved", "declined", "removed"] if include_closed else ["pending"]
        entries = await self.repository.entries_of_user(
            user_id, statuses=statuses, after=NEWEST_FIRST.after(cursor), limit=limit + 1
        )
        entries, next_cursor = NEWEST_FIRST.page(entries, limit)
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
                document_title=title_of(document), owner_id=request["owner_id"],
                owner_name=owner.full_name or owner.email, order=request["order"],
                message=request.get("message") or "", expires_at=request.get("expires_at"),
                status=request["status"], position=int(entry["position"]), signer_status=entry["status"],
                your_turn=your_turn(request, grouped.get(request["_id"], []), entry),
                created_at=request["created_at"],
            ))
        return Page[AssignedRequestRead](items=items, next_cursor=next_cursor)

    # --- access ------------------------------------------------------------------------------

    async def visible_document(self, document_id: str, user_id: str) -> DocumentAccess:
        """Access to a document the caller may see (owner, grant or requested signer); else 404."""
        access = await document_access(self.projection, document_id, user_id)
        if (not access.can_see and not await self.repository.is_participant(document_id, user_id)
                and not await self.repository.delegated_to(user_id, document_id)):
            raise NotFound("Document not found.")
        return access

    # --- reading -------------------------------------------------------------------------------

    async def _request_on(self, document_id: str, request_id: str) -> Whole:
        request = await self.repository.get(request_id) if well_formed(request_id, REQUEST_PREFIX) else None
        if request is None or request["document_id"] != document_id:
            raise NotFound("Signature request not found.")
        return request

    def _read(self, request: StoredRequest, entries: list[SignerDocument], *, viewer: str) -> SignatureRequestRead:
        hidden = (bool(request.get("hide_signatures")) and request["status"] == "open"
                  and viewer != request["owner_id"])
        signers = []
        for e in entries:
            undisclosed = hidden and e["user_id"] != viewer
            signers.append(SignerRead(
                user_id=e["user_id"], email=e["email"], full_name=e.get("full_name") or "",
                position=int(e["position"]), status="undisclosed" if undisclosed else e["status"],
                stage=stage_of(request, e), role=role_of(e),
                signed_at=None if undisclosed else e.get("signed_at"),
                signature_id=None if undisclosed else e.get("signature_id"),
                acted_at=None if undisclosed else e.get("acted_at"),
                acted_by=None if undisclosed else e.get("acted_by"),
                decline_reason=e.get("decline_reason"), delegate_email=e.get("delegate_email"),
                delegate_until=e.get("delegate_until"),
                delivery="pending" if e["user_id"] is None else "delivered",
                require_sign_right=bool(e.get("require_sign_right")),
                signatures_without_sign_right=[] if undisclosed else [
                    SignatureWithoutRight(**s) for s in e.get("signatures_without_sign_right") or []],
            ))
        return SignatureRequestRead(
            id=request["_id"], document_id=request["document_id"], owner_id=request["owner_id"],
            order=request["order"], message=request.get("message") or "", expires_at=request.get("expires_at"),
            hide_signatures_until_complete=bool(request.get("hide_signatures")), status=request["status"],
            created_at=request["created_at"], closed_at=request.get("closed_at"), signers=signers,
            stages=rules_of(request, entries),
            current_stage=request.get("current_stage") if request["status"] == "open" else None,
        )


def _entry(request: SignatureRequestDocument, position: int, stage: int, role: str, email: str,
           user: Document | None, now: datetime, *, external: bool,
           require_sign_right: bool = False) -> SignerDocument:
    """One participant: the account that has proven ``email``, or nobody yet (``user_id`` None)
    until an account proves it."""
    key = email_key(email)
    return {"_id": f"{request['_id']}:{position:03d}", "request_id": request["_id"],
            "document_id": request["document_id"], "user_id": str(user["_id"]) if user else None,
            "email": str(user.get("email") or key) if user else key, "email_key": key,
            "full_name": str(user.get("full_name") or "") if user else "", "position": position,
            "stage": stage, "role": role, "status": "pending", "signed_at": None, "signature_id": None,
            "acted_by": None, "acted_at": None, "decline_reason": None, "delegate_email": None,
            "delegate_user_id": None, "delegate_until": None, "external": external, "created_at": now,
            "require_sign_right": require_sign_right}
