"""Who may see and sign a document because a route asks them to, from routes' snapshots."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from docflow_shared.errors import Conflict, NotFound, Unauthorized
from docflow_shared.events.catalogue import (
    RouteAccessChanged,
    RouteExternalAccessGranted,
    RouteExternalAccessRevoked,
)
from docflow_shared.mongo import utc_now
from docflow_shared.projection.access import DocumentAccess, document_access
from docflow_shared.projection.outsiders import live
from docflow_signing.projection.repository import ProjectionRepository
from docflow_signing.routes.repository import SEES, RouteAccessRepository, expiry


@dataclass(frozen=True, slots=True)
class Outsider:
    """Someone outside DocFlow, through a session routes opened for one document."""

    signer_id: str
    document_id: str


@dataclass(frozen=True, slots=True)
class SigningTurn:
    """The open request a signature is made for."""

    request_id: str
    on_behalf_of: str | None = None


class RouteAccessService:
    def __init__(self, *, repository: RouteAccessRepository, projection: ProjectionRepository) -> None:
        self.repository = repository
        self.projection = projection

    async def access_changed(self, snapshot: RouteAccessChanged, at: datetime) -> None:
        await self.repository.apply(snapshot)

    async def external_granted(self, granted: RouteExternalAccessGranted, at: datetime) -> None:
        """An outsider proved their address to routes: their session token opens this document.
        The projection knows them by their route identity, with their address for events."""
        await self.projection.upsert_user(user_id=granted.signer_id, email=granted.email, full_name="",
                                          locale="ru", at=at, extra={"iin": None})
        await self.repository.grant_session(granted)

    async def external_revoked(self, revoked: RouteExternalAccessRevoked, at: datetime) -> None:
        await self.repository.revoke_session(revoked.session_hash)

    async def outsider(self, session_token: str | None) -> Outsider:
        """The outsider a ``DocFlow-External-Session`` token stands for; 401 otherwise. What they
        may do is then decided as for anyone, from routes' snapshot of their identity."""
        if not session_token:
            raise Unauthorized("This needs the DocFlow-External-Session header.", slug="session-missing")
        session = await self.repository.session(hashlib.sha256(session_token.encode()).hexdigest())
        if session is None or not live(session):
            raise Unauthorized("The session is unknown or has expired.", slug="session-invalid")
        return Outsider(signer_id=str(session["signer_id"]), document_id=str(session["document_id"]))

    async def visible_document(self, document_id: str, user_id: str) -> DocumentAccess:
        """Access to a document the caller may see (owner, grant or route participant); else 404."""
        access = await document_access(self.projection, document_id, user_id)
        if not access.can_see and await self.repository.standing(document_id, user_id, SEES,
                                                                 open_only=False) is None:
            raise NotFound("Document not found.")
        return access

    async def signing_turn(self, document_id: str, user_id: str) -> SigningTurn | None:
        """The open request the caller signs for now; 409 when their stage has not opened yet."""
        standing = await self.repository.standing(document_id, user_id, ["sign", "wait"], open_only=True)
        if standing is None or _expired(standing, "expires_at") or _expired(standing, "until"):
            return None
        if standing["access"] == "wait":
            raise Conflict("It is not your turn to sign this document yet.", slug="out-of-turn")
        return SigningTurn(str(standing["request_id"]), standing.get("on_behalf_of"))

    async def hides_signatures_from(self, access: DocumentAccess) -> bool:
        """Whether the caller sees only their own signatures (open request with hidden signatures)."""
        return not access.is_owner and await self.repository.hides_signatures(access.document_id)


def _expired(standing: Mapping[str, Any], field: str) -> bool:
    """Whether the request's expiry or a delegation's end (``field``) has passed."""
    at = expiry(standing, field)
    return at is not None and at <= utc_now()
