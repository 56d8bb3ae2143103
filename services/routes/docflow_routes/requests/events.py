"""Events about signature requests (signature.*, document.completed) and their routes (route.*)."""

from __future__ import annotations

from datetime import datetime

from docflow_routes.requests.stages import role_of
from docflow_shared.events import Person
from docflow_shared.events.catalogue import (
    DocumentCompleted,
    RouteActionOrigin,
    RouteApproved,
    RouteCompleted,
    RouteCreated,
    RouteDeclined,
    RouteDelegated,
    RouteExpired,
    RouteParticipant,
    RouteRole,
    RouteStageOpened,
    SignatureRequestCancelled,
    SignatureRequested,
    SignatureRequestExpired,
)
from docflow_shared.mongo import Document


def requested(request: Document, *, title: str, owner: Person, signer: Person,
              reminder: bool = False) -> SignatureRequested:
    return SignatureRequested(
        request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner,
        signer=signer, message=request.get("message") or "", expires_at=request.get("expires_at"),
        reminder=reminder,
    )


def expired(request: Document, *, title: str, owner: Person, pending: list[Person]) -> SignatureRequestExpired:
    return SignatureRequestExpired(request_id=request["_id"], document_id=request["document_id"], title=title,
                                   owner=owner, pending_signers=pending)


def cancelled(request: Document, signer_ids: list[str]) -> SignatureRequestCancelled:
    return SignatureRequestCancelled(request_id=request["_id"], document_id=request["document_id"],
                                     owner_id=request["owner_id"], signer_ids=signer_ids)


def completed(request: Document, *, title: str, owner: Person, participants: list[Person],
              at: datetime) -> DocumentCompleted:
    return DocumentCompleted(document_id=request["document_id"], request_id=request["_id"], title=title,
                             owner=owner, participants=participants, completed_at=at)


def stage_opened(request: Document, *, title: str, owner: Person, stage: int, rule: str,
                 entries: list[Document], people: dict[str, Person], reminder: bool = False) -> RouteStageOpened:
    return RouteStageOpened(
        request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner, stage=stage,
        rule="any" if rule == "any" else "all", reminder=reminder,
        participants=[RouteParticipant(person=people[e["_id"]], role=role_of(e), stage=stage)
                      for e in entries],
    )


def route_completed(request: Document, *, title: str, owner: Person, participants: list[Person],
                    at: datetime) -> RouteCompleted:
    return RouteCompleted(request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner,
                          participants=participants, completed_at=at)


def route_expired(request: Document, *, title: str, owner: Person, pending: list[Person],
                  at: datetime) -> RouteExpired:
    return RouteExpired(request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner,
                        pending=pending, expired_at=at)


def approved(request: Document, *, title: str, owner: Person, stage: int, actor: Person,
             on_behalf_of: Person | None, origin: RouteActionOrigin, at: datetime) -> RouteApproved:
    return RouteApproved(request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner,
                         stage=stage, actor=actor, on_behalf_of=on_behalf_of, origin=origin, approved_at=at)


def declined(request: Document, *, title: str, owner: Person, stage: int, actor: Person,
             on_behalf_of: Person | None, reason: str, participants: list[Person], origin: RouteActionOrigin,
             at: datetime) -> RouteDeclined:
    return RouteDeclined(request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner,
                         stage=stage, actor=actor, on_behalf_of=on_behalf_of, reason=reason,
                         participants=participants, origin=origin, declined_at=at)


def delegated(request: Document, *, title: str, owner: Person, delegator: Person, delegate: Person, role: RouteRole,
              until: datetime | None, origin: RouteActionOrigin) -> RouteDelegated:
    return RouteDelegated(request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner,
                          delegator=delegator, delegate=delegate, role=role, until=until,
                          origin=origin)


def created(request: Document, *, title: str, owner: Person, entries: list[Document], people: dict[str, Person],
            origin: RouteActionOrigin) -> RouteCreated:
    return RouteCreated(
        request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner,
        rules=["any" if r == "any" else "all" for r in request["stage_rules"]], expires_at=request.get("expires_at"),
        participants=[RouteParticipant(person=people[e["_id"]], role=role_of(e), stage=int(e["stage"]))
                      for e in entries],
        origin=origin)
