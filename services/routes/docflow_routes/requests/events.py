"""Events about signature requests (signature.*, document.completed) and their routes (route.*)."""

from __future__ import annotations

from datetime import datetime

from docflow_routes.requests.repository import SignerDocument, StoredRequest
from docflow_routes.requests.stages import role_of
from docflow_shared.events import Person, catalogue


def requested(request: StoredRequest, *, title: str, owner: Person, signer: Person,
              reminder: bool = False) -> catalogue.SignatureRequested:
    return catalogue.SignatureRequested(
        request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner,
        signer=signer, message=request.get("message") or "", expires_at=request.get("expires_at"),
        reminder=reminder,
    )


def expired(request: StoredRequest, *, title: str, owner: Person,
            pending: list[Person]) -> catalogue.SignatureRequestExpired:
    return catalogue.SignatureRequestExpired(request_id=request["_id"], document_id=request["document_id"],
                                             title=title, owner=owner, pending_signers=pending)


def cancelled(request: StoredRequest, signer_ids: list[str]) -> catalogue.SignatureRequestCancelled:
    return catalogue.SignatureRequestCancelled(request_id=request["_id"], document_id=request["document_id"],
                                               owner_id=request["owner_id"], signer_ids=signer_ids)


def completed(request: StoredRequest, *, title: str, owner: Person, participants: list[Person],
              at: datetime) -> catalogue.DocumentCompleted:
    return catalogue.DocumentCompleted(document_id=request["document_id"], request_id=request["_id"], title=title,
                                       owner=owner, participants=participants, completed_at=at)


def stage_opened(request: StoredRequest, *, title: str, owner: Person, stage: int, rule: str,
                 entries: list[SignerDocument], people: dict[str, Person],
                 reminder: bool = False) -> catalogue.RouteStageOpened:
    return catalogue.RouteStageOpened(
        request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner, stage=stage,
        rule="any" if rule == "any" else "all", reminder=reminder,
        participants=[catalogue.RouteParticipant(person=people[e["_id"]], role=role_of(e), stage=stage)
                      for e in entries],
    )


def route_completed(request: StoredRequest, *, title: str, owner: Person, participants: list[Person],
                    at: datetime) -> catalogue.RouteCompleted:
    return catalogue.RouteCompleted(request_id=request["_id"], document_id=request["document_id"], title=title,
                                    owner=owner, participants=participants, completed_at=at)


def route_expired(request: StoredRequest, *, title: str, owner: Person, pending: list[Person],
                  at: datetime) -> catalogue.RouteExpired:
    return catalogue.RouteExpired(request_id=request["_id"], document_id=request["document_id"], title=title,
                                  owner=owner, pending=pending, expired_at=at)


def approved(request: StoredRequest, *, title: str, owner: Person, stage: int, actor: Person,
             on_behalf_of: Person | None, origin: catalogue.RouteActionOrigin,
             at: datetime) -> catalogue.RouteApproved:
    return catalogue.RouteApproved(request_id=request["_id"], document_id=request["document_id"], title=title,
                                   owner=owner, stage=stage, actor=actor, on_behalf_of=on_behalf_of, origin=origin,
                                   approved_at=at)


def declined(request: StoredRequest, *, title: str, owner: Person, stage: int, actor: Person,
             on_behalf_of: Person | None, reason: str, participants: list[Person], origin: catalogue.RouteActionOrigin,
             at: datetime) -> catalogue.RouteDeclined:
    return catalogue.RouteDeclined(request_id=request["_id"], document_id=request["document_id"], title=title,
                                   owner=owner, stage=stage, actor=actor, on_behalf_of=on_behalf_of, reason=reason,
                                   participants=participants, origin=origin, declined_at=at)


def delegated(request: StoredRequest, *, title: str, owner: Person, delegator: Person, delegate: Person,
              role: catalogue.RouteRole, until: datetime | None,
              origin: catalogue.RouteActionOrigin) -> catalogue.RouteDelegated:
    return catalogue.RouteDelegated(request_id=request["_id"], document_id=request["document_id"], title=title,
                                    owner=owner, delegator=delegator, delegate=delegate, role=role, until=until,
                                    origin=origin)


def created(request: StoredRequest, *, title: str, owner: Person, entries: list[SignerDocument],
            people: dict[str, Person], origin: catalogue.RouteActionOrigin) -> catalogue.RouteCreated:
    return catalogue.RouteCreated(
        request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner,
        rules=["any" if r == "any" else "all" for r in request["stage_rules"]], expires_at=request.get("expires_at"),
        participants=[catalogue.RouteParticipant(person=people[e["_id"]], role=role_of(e), stage=int(e["stage"]))
                      for e in entries],
        origin=origin)
