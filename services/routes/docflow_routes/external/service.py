"""People outside DocFlow: a single-use, expiring link, a 6-digit e-mail code, then a session
for that request alone (docs/architecture.md, "People outside DocFlow")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from docflow_routes.external import secrets
from docflow_routes.external.repository import ExternalLinkDocument, ExternalRepository, ExternalSessionDocument
from docflow_routes.external.schemas import ExternalFile, ExternalView, LinkOpened, SessionOpened
from docflow_routes.projection.repository import ProjectionRepository
from docflow_routes.requests.actions import Outsider
from docflow_routes.requests.lifecycle import title_of
from docflow_routes.requests.repository import SignatureRequestRepository, SignerDocument, StoredRequest
from docflow_routes.requests.stages import role_of, your_turn
from docflow_routes.settings import RoutesSettings
from docflow_shared.errors import Gone, NotFound, TooManyRequests, Unauthorized
from docflow_shared.events import Event, EventPayload, Person
from docflow_shared.events.catalogue import (
    RouteExternalAccessGranted,
    RouteExternalAccessRevoked,
    RouteExternalCodeRequested,
    RouteExternalInvited,
)
from docflow_shared.ids import new_id
from docflow_shared.mongo import utc_now
from docflow_shared.outbox import retry_stale
from docflow_shared.sealed import SecretSealer, secret_context

LINK_PREFIX = "lnk"


def external_id(entry: SignerDocument, *, delegate: bool) -> str:
    """The identity an outside participant signs and acts under (signing knows them by it)."""
    return f"ext:{entry['_id']}:d" if delegate else f"ext:{entry['_id']}"


@dataclass(kw_only=True, eq=False)
class ExternalService:
    repository: ExternalRepository
    requests: SignatureRequestRepository
    projection: ProjectionRepository
    sealer: SecretSealer
    code_key: bytes
    make_event: Callable[[EventPayload], Event]
    settings: RoutesSettings

    # --- invitation (when a stage opens, or a part is delegated to an address) -----------------

    async def invite(self, request: StoredRequest, entry: SignerDocument, *, title: str, owner: Person,
                     delegate: bool = False, reminder: bool = False) -> Event:
        """A new link for ``entry`` (or its delegate), stored hashed; the event carries it sealed.
        It replaces the person's earlier unused links for the entry (a reminder's fresh link makes
        the first one stop working: services/routes/README.md, "Reminders to outsiders")."""
        now = utc_now()
        expires_at = now + timedelta(days=self.settings.external_link_days)
        request_expiry = request.get("expires_at")
        if isinstance(request_expiry, datetime):
            expires_at = min(expires_at, request_expiry if request_expiry.tzinfo else
                             request_expiry.replace(tzinfo=UTC))
        token = secrets.new_token()
        link_id = new_id(f"{LINK_PREFIX}_")
        email = str(entry["delegate_email"] if delegate else entry["email"])
        await self.repository.insert_link({
            "_id": link_id, "token_hash": secrets.token_hash(token), "request_id": request["_id"],
            "document_id": request["document_id"], "entry_id": entry["_id"], "email": email,
            "delegate": delegate, "state": "new", "expires_at": expires_at, "code_sends": 0,
            "last_code_at": None, "failures": 0, "created_at": now,
        })
        await self.repository.supersede(link_id, request_id=request["_id"], entry_id=entry["_id"], delegate=delegate)
        link = f"{self.settings.public_base_url.rstrip('/')}{self.settings.external_link_path}{token}"
        sealed = self.sealer.seal({"link": link}, context=secret_context(RouteExternalInvited.TYPE, link_id))
        return self.make_event(RouteExternalInvited(
            user_id=link_id, request_id=request["_id"], document_id=request["document_id"], title=title,
            owner=owner, recipient=Person(user_id="", email=email, locale=owner.locale),
            role=role_of(entry), expires_at=expires_at, sealed=sealed, reminder=reminder))

    # --- the link and its code ------------------------------------------------------------------

    async def _valid_link(self, token: str) -> ExternalLinkDocument:
        link = await self.repository.link_by_hash(secrets.token_hash(token))
        if link is None:
            raise NotFound("Link not found.")
        if link["state"] == "used":
            raise Gone("This link has been used.", slug="link-used")
        if link["state"] == "locked":
            raise Gone("This link is locked after too many wrong codes.", slug="link-locked")
        if link["state"] == "superseded":
            raise Gone("A newer link was sent to this address; use the latest e-mail.", slug="link-superseded")
        request = await self.requests.get(link["request_id"])
        if link["expires_at"] <= utc_now() or request is None or request["status"] != "open":
            raise Gone("This link has expired.", slug="link-expired")
        return link

    async def open(self, token: str) -> LinkOpened:
        """Send a code to the link's address (at most one a minute, five per link)."""
        link = await self._valid_link(token)
        now = utc_now()
        code = secrets.new_code()
        expires_at = now + timedelta(seconds=self.settings.external_code_seconds)
        claimed = await self.repository.claim_code(
            link["_id"], code_hash=secrets.code_hash(self.code_key, link["_id"], code), now=now,
            code_expires_at=expires_at, gap=timedelta(seconds=self.settings.external_code_gap_seconds),
            max_sends=self.settings.external_code_sends)
        if claimed is None:
            raise TooManyRequests("A code was sent recently; use it or wait before asking again.",
                                  retry_after=int(self.settings.external_code_gap_seconds))
        request = await self.requests.get(link["request_id"])
        assert request is not None  # checked by _valid_link
        document = await self.projection.document(request["document_id"])
        owner = await self.projection.person(request["owner_id"])
        sealed = self.sealer.seal({"code": code}, context=secret_context(RouteExternalCodeRequested.TYPE, link["_id"]))
        asked = RouteExternalCodeRequested(user_id=link["_id"], request_id=request["_id"], title=title_of(document),
                                           recipient=Person(user_id="", email=link["email"], locale=owner.locale),
                                           expires_at=expires_at, sealed=sealed)
        await self._publish(request["_id"], [self.make_event(asked)])
        entry = await self._entry(link)
        return LinkOpened(request_id=request["_id"], document_title=title_of(document),
                          owner_name=owner.full_name or owner.email, role=role_of(entry),
                          email=_masked(link["email"]), code_expires_at=expires_at)

    async def verify(self, token: str, code: str) -> SessionOpened:
        """The right code spends the link and opens a session; wrong ones count, and lock it."""
        link = await self._valid_link(token)
        now = utc_now()
        if not await self.repository.use(link["_id"], code_hash=secrets.code_hash(self.code_key, link["_id"], code),
                                         now=now):
            counted = await self.repository.count_failure(link["_id"], max_failures=self.settings.external_max_failures)
            if counted is not None and counted["state"] == "locked":
                raise Gone("This link is locked after too many wrong codes.", slug="link-locked")
            raise Unauthorized("The code is wrong or has expired.", slug="code-invalid")
        entry = await self._entry(link)
        session_token = secrets.new_token()
        expires_at = now + timedelta(hours=self.settings.external_session_hours)
        signer_id = external_id(entry, delegate=bool(link["delegate"]))
        session: ExternalSessionDocument = {
            "_id": secrets.token_hash(session_token), "link_id": link["_id"],
            "request_id": link["request_id"], "document_id": link["document_id"],
            "entry_id": link["entry_id"], "email": link["email"], "delegate": bool(link["delegate"]),
            "signer_id": signer_id, "expires_at": expires_at, "created_at": now}
        await self.repository.insert_session(session)
        granted = RouteExternalAccessGranted(
            session_hash=session["_id"], request_id=link["request_id"], document_id=link["document_id"],
            email=link["email"], signer_id=signer_id, may_sign=role_of(entry) == "sign", expires_at=expires_at)
        await self._publish(link["request_id"], [self.make_event(granted)])
        return SessionOpened(session_token=session_token, expires_at=expires_at, request_id=link["request_id"],
                             document_id=link["document_id"])

    # --- the session ----------------------------------------------------------------------------

    async def session(self, session_token: str | None) -> Outsider:
        """The caller's session; 401 without a valid one."""
        if not session_token:
            raise Unauthorized("This needs the DocFlow-External-Session header.", slug="session-missing")
        found = await self.repository.session(secrets.token_hash(session_token))
        if found is None or found["expires_at"] <= utc_now():
            raise Unauthorized("The session is unknown or has expired.", slug="session-invalid")
        return Outsider(request_id=found["request_id"], document_id=found["document_id"],
                               entry_id=found["entry_id"], email=found["email"], delegate=bool(found["delegate"]),
                               signer_id=found["signer_id"])

    async def view(self, session: Outsider) -> ExternalView:
        request = await self.requests.get(session.request_id)
        if request is None:
            raise NotFound("Signature request not found.")
        entries = await self.requests.signers_of(session.request_id)
        entry = next(e for e in entries if e["_id"] == session.entry_id)
        document = await self.projection.document(request["document_id"])
        owner = await self.projection.person(request["owner_id"])
        files = [ExternalFile(id=f["_id"], name=f["name"], size=int(f["size"]), sha256=f["sha256"])
                 for f in await self.projection.files_of(request["document_id"])]
        return ExternalView(
            request_id=request["_id"], document_id=request["document_id"], document_title=title_of(document),
            owner_name=owner.full_name or owner.email, message=str(request.get("message") or ""),
            role=role_of(entry), status=entry["status"], request_status=request["status"],
            your_turn=your_turn(request, entries, entry), signer_id=session.signer_id, files=files)

    async def revocations(self, request_id: str) -> list[Event]:
        """``route.external_access_revoked`` for every session of a request that closes without
        access (documents and signing drop them; routes refuses them by the request's state)."""
        return [self.make_event(RouteExternalAccessRevoked(session_hash=s["_id"], request_id=request_id,
                                                           document_id=s["document_id"]))
                for s in await self.repository.sessions_of(request_id)]

    async def _entry(self, link: ExternalLinkDocument) -> SignerDocument:
        entries = await self.requests.signers_of(link["request_id"])
        entry = next((e for e in entries if e["_id"] == link["entry_id"]), None)
        if entry is None:
            raise NotFound("Link not found.")
        return entry

    async def _publish(self, request_id: str, to_send: list[Event]) -> None:
        """Events about a link ride in the request's outbox."""

        async def attempt() -> None:
            request = await self.requests.get(request_id)
            if request is None:
                return
            await self.requests.update(request, {}, to_send)

        await retry_stale(attempt)


def _masked(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"
