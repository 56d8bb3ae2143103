"""Standing deputies: set for a period, they receive the new requests addressed to the user."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from docflow_routes.deputies.repository import DeputyDocument, DeputyRepository
from docflow_routes.deputies.schemas import DeputyPut, DeputyRead
from docflow_routes.projection.repository import ProjectionRepository
from docflow_routes.requests.repository import SignerDocument, StoredRequest
from docflow_shared.errors import NotFound, Unprocessable, field_error
from docflow_shared.events import Event, EventPayload
from docflow_shared.events.catalogue import RouteDelegated
from docflow_shared.mongo import stored_datetime, utc_now
from docflow_shared.projection.repository import email_key


class DeputyService:
    def __init__(self, *, repository: DeputyRepository, projection: ProjectionRepository,
                 make_event: Callable[[EventPayload], Event]) -> None:
        self.repository = repository
        self.projection = projection
        self.make_event = make_event

    async def put(self, *, user_id: str, body: DeputyPut) -> DeputyRead:
        now = utc_now()
        if body.until <= now:
            raise Unprocessable("until lies in the past.", errors=[field_error("until", "must be in the future")])
        own = await self.projection.proven_address(user_id)
        if own is not None and own == email_key(body.email):
            raise Unprocessable("You cannot be your own deputy.", errors=[field_error("email", "is your own")])
        doc = await self.repository.put(user_id, email=email_key(body.email), starts_at=body.starts_at,
                                        until=body.until, at=now)
        return _read(doc, now)

    async def get(self, *, user_id: str) -> DeputyRead:
        doc = await self.repository.get(user_id)
        if doc is None:
            raise NotFound("No deputy is set.")
        return _read(doc, utc_now())

    async def clear(self, *, user_id: str) -> None:
        if not await self.repository.delete(user_id):
            raise NotFound("No deputy is set.")

    async def hand_over(self, entries: list[SignerDocument], now: datetime) -> None:
        """Entries of users whose deputy stands now go to the deputy (until the deputy's period ends)."""
        for entry in entries:
            if entry["user_id"] is None or entry["role"] == "cc":
                continue
            deputy = await self.repository.get(entry["user_id"])
            if deputy is None or not _active(deputy, now):
                continue
            found = await self.projection.users_by_email([deputy["email"]])
            account = found.get(deputy["email"])
            if account is None or str(account["_id"]) == entry["user_id"]:
                continue
            entry.update({"delegate_email": deputy["email"], "delegate_user_id": str(account["_id"]),
                          "delegate_until": stored_datetime(deputy.get("until")), "standing_deputy": True})

    async def announce(self, request: StoredRequest, entries: list[SignerDocument], *, title: str) -> list[Event]:
        """``route.delegated`` (standing) for each entry handed to a deputy: the user is told."""
        announced = []
        owner = await self.projection.person(request["owner_id"])
        for entry in entries:
            if not entry.get("standing_deputy"):
                continue
            delegate = await self.projection.person(str(entry["delegate_user_id"]))
            announced.append(self.make_event(RouteDelegated(
                request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner,
                delegator=await self.projection.person(str(entry["user_id"])), delegate=delegate,
                role=entry["role"], until=stored_datetime(entry.get("delegate_until")), standing=True)))
        return announced


def _active(deputy: DeputyDocument, now: datetime) -> bool:
    starts, until = stored_datetime(deputy.get("starts_at")), stored_datetime(deputy.get("until"))
    return (starts is None or starts <= now) and (until is None or now < until)


def _read(doc: DeputyDocument, now: datetime) -> DeputyRead:
    return DeputyRead.from_doc({**doc, "active": _active(doc, now)})
