"""Events of routes: ``route.*`` (catalogue v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from docflow_shared.events.envelope import EventPayload
from docflow_shared.events.facts import RouteActionFacts, RouteFacts
from docflow_shared.events.person import Client, Person

RouteAccessLevel = Literal["sign", "wait", "view", "none"]


class RouteParticipantAccess(BaseModel):
    """One account's standing in a route: ``sign`` (may sign now, for this request), ``wait``
    (a signer whose stage has not opened: sees the document, signing is out of turn), ``view``
    (sees the document) or ``none`` (no longer a participant)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    user_id: str
    access: RouteAccessLevel
    on_behalf_of: str | None = None
    """A delegate's entry: the participant they act for."""
    until: datetime | None = None
    """A delegate's standing ends then, whatever the next snapshot says."""


class RouteAccessChanged(EventPayload):
    """What signing needs to know of a route, as a whole snapshot: who may see the document and
    who may sign it now under this request. Deliveries are unordered, so the highest ``version``
    of a request wins (docs/architecture.md, "Routes")."""

    TYPE = "route.access_changed"
    request_id: str
    document_id: str
    owner_id: str
    version: int
    open: bool
    hide_signatures: bool = False
    expires_at: datetime | None = None
    participants: list[RouteParticipantAccess] = []


RouteRole = Literal["approve", "sign", "cc"]


class RouteParticipant(BaseModel):
    """A participant as route events name them: who, in which role; ``user_id`` empty for an
    address no account has proven."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    person: Person
    role: RouteRole
    stage: int


# A ``Client`` under the name route events have always given it (its schema keeps the name).
class RouteActionOrigin(Client):
    """Where an action came from, for the audit trail."""


class RouteCreated(RouteFacts):
    """The owner started a route: its stages' rules and every participant, for the audit trail."""

    TYPE = "route.created"
    rules: list[Literal["all", "any"]]
    participants: list[RouteParticipant]
    expires_at: datetime | None = None
    origin: RouteActionOrigin = RouteActionOrigin()


class RouteStageOpened(RouteFacts):
    """A stage of a route opened: its participants may act (``sign`` ones also get
    ``signature.requested``)."""

    TYPE = "route.stage_opened"
    stage: int
    rule: Literal["all", "any"]
    participants: list[RouteParticipant]
    reminder: bool = False
    """A reminder to the stage's pending participants (only those are listed then)."""


class RouteApproved(RouteActionFacts):
    TYPE = "route.approved"
    origin: RouteActionOrigin = RouteActionOrigin()
    approved_at: datetime


class RouteDeclined(RouteActionFacts):
    """A participant declined: the route stops; the owner and every participant are told."""

    TYPE = "route.declined"
    reason: str
    participants: list[Person] = []
    origin: RouteActionOrigin = RouteActionOrigin()
    declined_at: datetime


class RouteDelegated(RouteFacts):
    """A participant handed their part to ``delegate`` (``standing``: through their standing
    deputy); the delegate acts on behalf of ``delegator`` until ``until``."""

    TYPE = "route.delegated"
    delegator: Person
    delegate: Person
    role: RouteRole
    until: datetime | None = None
    standing: bool = False
    origin: RouteActionOrigin = RouteActionOrigin()


class RouteCompleted(RouteFacts):
    """Every stage completed; ``participants`` are everyone told (owner, actors, cc)."""

    TYPE = "route.completed"
    participants: list[Person]
    completed_at: datetime


class RouteExpired(RouteFacts):
    TYPE = "route.expired"
    pending: list[Person] = []
    expired_at: datetime


class RouteExternalInvited(EventPayload):
    """A participant outside DocFlow is asked in: the link (with its single-use token) travels
    sealed for mail in ``sealed``; ``user_id`` is the link's id, which the seal is bound to.
    ``reminder`` (added; false in older events): a reminder of the open stage, with a fresh link."""

    TYPE = "route.external_invited"
    user_id: str
    request_id: str
    document_id: str
    title: str
    owner: Person
    recipient: Person
    role: RouteRole
    link: str = ""
    expires_at: datetime
    sealed: str = ""
    reminder: bool = False


class RouteExternalCodeRequested(EventPayload):
    """The 6-digit code for an opened link, sealed for mail in ``sealed`` (``user_id``: the link)."""

    TYPE = "route.external_code_requested"
    user_id: str
    request_id: str
    title: str
    recipient: Person
    code: str = ""
    expires_at: datetime
    sealed: str = ""


class RouteExternalAccessGranted(EventPayload):
    """An outside participant proved their address: ``session_hash`` (SHA-256 of a random
    session token they hold) opens ``document_id`` alone until ``expires_at``. Documents (files)
    and signing (certificate, signature) accept the token for that document only."""

    TYPE = "route.external_access_granted"
    session_hash: str
    request_id: str
    document_id: str
    email: str
    signer_id: str
    may_sign: bool
    expires_at: datetime


class RouteExternalAccessRevoked(EventPayload):
    TYPE = "route.external_access_revoked"
    session_hash: str
    request_id: str
    document_id: str
