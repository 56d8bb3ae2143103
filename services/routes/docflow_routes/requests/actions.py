"""What a participant does on their turn: approve, decline (with a reason), delegate.

A participant's delegate acts on their behalf while the delegation lasts; every action names
both, and where it came from (ip, user agent, request id) for the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from docflow_routes.projection.repository import ProjectionRepository
from docflow_routes.requests import events
from docflow_routes.requests.lifecycle import RequestLifecycle, title_of
from docflow_routes.requests.repository import SignatureRequestRepository, SignerDocument
from docflow_routes.requests.schemas import DeclineBody, DelegateBody
from docflow_routes.requests.stages import delegation_active, role_of, stage_of, your_turn
from docflow_shared.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from docflow_shared.events import Event, EventPayload, Person
from docflow_shared.events.catalogue import RouteActionOrigin
from docflow_shared.faults import pause_point
from docflow_shared.mongo import utc_now
from docflow_shared.outbox import Whole
from docflow_shared.projection.repository import email_key


@dataclass(frozen=True, slots=True)
class Acting:
    """An account acting on its turn in one request of a document, and where the call came from:
    what approve, decline and delegate all begin with."""

    user_id: str
    document_id: str
    request_id: str
    origin: RouteActionOrigin


@dataclass(frozen=True, slots=True)
class Outsider:
    """Someone outside DocFlow acting through a link's session on one entry."""

    request_id: str
    document_id: str
    entry_id: str
    email: str
    delegate: bool
    signer_id: str


@dataclass(frozen=True, slots=True)
class Turn:
    """The caller's pending entry in an open request, and whom they act for."""

    request: Whole
    entries: list[SignerDocument]
    entry: SignerDocument
    actor: Person
    acted_by: str
    on_behalf_of: Person | None


class RouteActions:
    def __init__(self, *, repository: SignatureRequestRepository, projection: ProjectionRepository,
                 lifecycle: RequestLifecycle, make_event: Callable[[EventPayload], Event]) -> None:
        self.repository = repository
        self.projection = projection
        self.lifecycle = lifecycle
        self.make_event = make_event

    async def approve(self, acting: Acting) -> None:
        await self._approve(await self._turn(acting.user_id, acting.document_id, acting.request_id), acting.origin)

    async def approve_as_outsider(self, outsider: Outsider, origin: RouteActionOrigin) -> None:
        await self._approve(await self._outsider_turn(outsider), origin)

    async def decline(self, acting: Acting, body: DeclineBody) -> None:
        await self._decline(await self._turn(acting.user_id, acting.document_id, acting.request_id), body,
                            acting.origin)

    async def decline_as_outsider(self, outsider: Outsider, body: DeclineBody, origin: RouteActionOrigin) -> None:
        await self._decline(await self._outsider_turn(outsider), body, origin)

    async def _approve(self, turn: Turn, origin: RouteActionOrigin) -> None:
        if role_of(turn.entry) != "approve":
            raise Conflict("Your part in this route is to sign, not to approve.", slug="wrong-role")
        now = utc_now()
        if not await self.repository.mark_acted(turn.entry["_id"], status="approved", by=turn.acted_by, at=now):
            raise Conflict("You have already acted on this request.", slug="already-acted")
        await pause_point("routes.action.after_mark")
        title, owner = await self._context(turn)
        approved = events.approved(turn.request, title=title, owner=owner, stage=stage_of(turn.request, turn.entry),
                                   actor=turn.actor, on_behalf_of=turn.on_behalf_of, origin=origin, at=now)
        await self.lifecycle.settle(turn.request["_id"], [self.make_event(approved)])

    async def _decline(self, turn: Turn, body: DeclineBody, origin: RouteActionOrigin) -> None:
        now = utc_now()
        if not await self.repository.mark_acted(turn.entry["_id"], status="declined", by=turn.acted_by, at=now,
                                                reason=body.reason):
            raise Conflict("You have already acted on this request.", slug="already-acted")
        await pause_point("routes.action.after_mark")
        title, owner = await self._context(turn)
        told = [await self.lifecycle.person_of(e) for e in turn.entries]
        declined = events.declined(turn.request, title=title, owner=owner, stage=stage_of(turn.request, turn.entry),
                                   actor=turn.actor, on_behalf_of=turn.on_behalf_of, reason=body.reason,
                                   participants=[p for p in told if p.email], origin=origin, at=now)
        await self.lifecycle.decline(turn.request["_id"], self.make_event(declined))

    async def delegate(self, acting: Acting, body: DelegateBody) -> None:
        user_id = acting.user_id
        request, entries = await self._open_request(user_id, acting.document_id, acting.request_id)
        entry = next((e for e in entries if e["user_id"] == user_id and e["status"] == "pending"
                      and role_of(e) != "cc"), None)
        if entry is None:
            raise Forbidden("Only a participant who has not acted yet may delegate.", slug="not-a-participant")
        await self._delegate(request, entries, entry, await self.projection.person(user_id), body, acting.origin)

    async def delegate_as_outsider(self, outsider: Outsider, body: DelegateBody, origin: RouteActionOrigin) -> None:
        """An outsider hands their own part on (a delegate cannot hand it further)."""
        request, entries, entry = await self._outsider_request(outsider)
        if outsider.delegate or entry is None or entry["status"] != "pending" or role_of(entry) == "cc":
            raise Forbidden("Only a participant who has not acted yet may delegate.", slug="not-a-participant")
        await self._delegate(request, entries, entry, Person(user_id="", email=outsider.email), body, origin)

    async def _delegate(self, request: Whole, entries: list[SignerDocument], entry: SignerDocument, delegator: Person,
                        body: DelegateBody, origin: RouteActionOrigin) -> None:
        request_id, document_id = request["_id"], request["document_id"]
        now = utc_now()
        if body.until is not None and body.until <= now:
            raise Unprocessable("until lies in the past.", errors=[field_error("until", "must be in the future")])
        address = email_key(body.email)
        if address == entry["email_key"]:
            raise Unprocessable("You cannot delegate to yourself.", errors=[field_error("email", "is your own")])
        found = await self.projection.users_by_email([address])
        account = found.get(address)
        delegate_id = str(account["_id"]) if account else None
        if delegate_id == request["owner_id"] or any(e["user_id"] == delegate_id for e in entries if delegate_id):
            raise Conflict("That person already takes part in this route.", slug="already-participant")
        if not await self.repository.delegate(entry["_id"], email=address, user_id=delegate_id, until=body.until):
            raise Conflict("This part is already delegated.", slug="already-delegated")
        document = await self.projection.document(document_id)
        owner = await self.projection.person(request["owner_id"])
        delegated = events.delegated(
            request, title=title_of(document), owner=owner, delegator=delegator,
            delegate=await self.projection.person(delegate_id) if delegate_id else Person(user_id="", email=address),
            role=role_of(entry), until=body.until, origin=origin)
        announce = [self.make_event(delegated)]
        if delegate_id is None and your_turn(request, entries, entry):  # an outsider: a link, now
            handed: SignerDocument = {**entry, "delegate_email": address, "delegate_user_id": None,
                                      "delegate_until": body.until}
            announce.append(await self.lifecycle.external.invite(request, handed, title=title_of(document),
                                                                 owner=owner, delegate=True))
        await self.lifecycle.settle(request_id, announce)

    # --- whose turn ----------------------------------------------------------------------------

    async def _open_request(self, user_id: str, document_id: str,
                            request_id: str) -> tuple[Whole, list[SignerDocument]]:
        request = await self.repository.get(request_id)
        if request is None or request["document_id"] != document_id:
            raise NotFound("Signature request not found.")
        entries = await self.repository.signers_of(request_id)
        involved = request["owner_id"] == user_id or any(
            e["user_id"] == user_id or e.get("delegate_user_id") == user_id for e in entries)
        if not involved:
            raise NotFound("Signature request not found.")
        if request["status"] != "open":
            raise Conflict(f"The request is already {request['status']}.", slug="request-closed")
        return request, entries

    async def _turn(self, user_id: str, document_id: str, request_id: str) -> Turn:
        """The entry the caller acts on, as its participant or as its delegate; 403 for an
        expired delegation or no part, 409 out of turn."""
        request, entries = await self._open_request(user_id, document_id, request_id)
        now = utc_now()
        own = [e for e in entries if e["user_id"] == user_id and e["status"] == "pending" and role_of(e) != "cc"]
        delegated = [e for e in entries if e.get("delegate_user_id") == user_id and e["status"] == "pending"]
        for entry in delegated:
            if not delegation_active(entry, now):
                raise Forbidden("The delegation has ended.", slug="delegation-ended")
        candidates = [(e, False) for e in own] + [(e, True) for e in delegated]
        if not candidates:
            raise Forbidden("You have no part left to act on in this request.", slug="not-a-participant")
        actor = await self.projection.person(user_id)
        for entry, for_another in candidates:
            if your_turn(request, entries, entry):
                principal = await self.lifecycle.person_of(entry) if for_another else None
                return Turn(request, entries, entry, actor, user_id, principal)
        raise Conflict("It is not your turn in this route yet.", slug="out-of-turn")

    async def _outsider_request(self, outsider: Outsider) -> tuple[Whole, list[SignerDocument], SignerDocument | None]:
        """The open request of an outsider's session, its entries, and the session's entry (None
        when it is gone); 404 for no request, 409 once it closed."""
        request = await self.repository.get(outsider.request_id)
        if request is None:
            raise NotFound("Signature request not found.")
        if request["status"] != "open":
            raise Conflict(f"The request is already {request['status']}.", slug="request-closed")
        entries = await self.repository.signers_of(outsider.request_id)
        return request, entries, next((e for e in entries if e["_id"] == outsider.entry_id), None)

    async def _outsider_turn(self, outsider: Outsider) -> Turn:
        """The entry an outsider's session is for: 403 once their delegation ended or the entry
        is done, 409 out of turn."""
        request, entries, entry = await self._outsider_request(outsider)
        if entry is None or entry["status"] != "pending" or role_of(entry) == "cc":
            raise Forbidden("You have no part left to act on in this request.", slug="not-a-participant")
        if outsider.delegate and (entry.get("delegate_email") != outsider.email or not delegation_active(entry)):
            raise Forbidden("The delegation has ended.", slug="delegation-ended")
        if not your_turn(request, entries, entry):
            raise Conflict("It is not your turn in this route yet.", slug="out-of-turn")
        principal = await self.lifecycle.person_of(entry) if outsider.delegate else None
        return Turn(request, entries, entry, Person(user_id="", email=outsider.email), outsider.signer_id, principal)

    async def _context(self, turn: Turn) -> tuple[str, Person]:
        document = await self.projection.document(turn.request["document_id"])
        return title_of(document), await self.projection.person(turn.request["owner_id"])



