"""What each consumed event means for a document's trail: the action, who did it (and for
whom), from where, and what it tells about who may read the trail.

Catalogue events are read through their payload classes. ``route.*`` events belong to the
routes service; they are read by name with a tolerant reader, so that the trail records them
whatever optional fields they carry (``ROUTE_EVENTS``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from docflow_audit.access.schemas import AccessChange
from docflow_audit.trail.schemas import Actor, ClientRead, Fact
from docflow_shared.events import Client, Event, Person, catalogue

ROUTE_EVENTS: dict[str, str] = {
    # a snapshot of who may see the document: it feeds the projection, and is no action itself
    "route.access_changed": "",
    "route.created": "route_created",
    "route.stage_opened": "stage_opened",
    "route.approved": "approved",
    "route.declined": "declined",
    "route.delegated": "delegated",
    "route.signed": "signed",
    "route.completed": "completed",
    "route.expired": "expired",
    "route.cancelled": "cancelled",
}

# fields of a route event that name people, in the order the actor is looked for (a delegation
# is the delegator's act; the delegate is in its details)
_ROUTE_ACTORS = ("actor", "by", "delegator", "participant", "approver", "signer", "decliner")
_ROUTE_PEOPLE = (*_ROUTE_ACTORS, "delegate", "to", "on_behalf_of", "participants", "pending", "recipients")
# where a route event says the request that did it came from
_ROUTE_CLIENT = ("client", "origin")


def actor(person: Person) -> Actor:
    return Actor(user_id=person.user_id, email=person.email, name=person.full_name)


def named(person: Person) -> dict[str, Any]:
    """A person as a detail of a record."""
    return actor(person).model_dump()


def user(user_id: str | None) -> Actor | None:
    return Actor(user_id=user_id) if user_id else None


def client(event: Event, seen: Client | None = None) -> ClientRead:
    """Where the request came from; the request id is the event's correlation id when the
    payload does not say (every event made in a request carries it)."""
    seen = seen or Client()
    return ClientRead(ip=seen.ip, user_agent=seen.user_agent,
                      request_id=seen.request_id or event.correlation_id or "")


def plain(value: Any) -> Any:
    """A value as the chain hashes it: strings, integers, booleans, null, lists and objects
    (docflow_audit.trail.chain); anything else becomes its text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


class OwnedDocument(Protocol):
    """A payload that names a document and its owner."""

    @property
    def document_id(self) -> str: ...

    @property
    def owner_id(self) -> str: ...


def owners_act(event: Event, p: OwnedDocument, action: str, **details: Any) -> Fact:
    """Something the document's owner did, from the request the event was made in."""
    return Fact(p.document_id, p.owner_id, action, user(p.owner_id), client=client(event), details=details)


# --- documents ----------------------------------------------------------------------------

def document_created(event: Event) -> Fact:
    p = event.payload(catalogue.DocumentCreated)
    return owners_act(event, p, "created", title=p.title, status=p.status)


def document_updated(event: Event) -> Fact:
    p = event.payload(catalogue.DocumentUpdated)
    return Fact(p.document_id, p.owner_id, "updated", client=client(event),
                details={"title": p.title, "status": p.status, "version": p.version})


def document_deleted(event: Event) -> Fact:
    return owners_act(event, event.payload(catalogue.DocumentDeleted), "deleted")


def file_added(event: Event) -> Fact:
    p = event.payload(catalogue.DocumentFileAdded)
    return owners_act(event, p, "file_added", file_id=p.file_id, name=p.name, size=p.size, sha256=p.sha256)


def file_removed(event: Event) -> Fact:
    p = event.payload(catalogue.DocumentFileRemoved)
    return owners_act(event, p, "file_removed", file_id=p.file_id)


def viewed(event: Event) -> Fact:
    p = event.payload(catalogue.DocumentViewed)
    return Fact(p.document_id, p.owner_id, "viewed", user(p.viewer_id), client=client(event, p.client))


def downloaded(event: Event) -> Fact:
    p = event.payload(catalogue.FileDownloaded)
    return Fact(p.document_id, p.owner_id, "downloaded", user(p.downloader_id), client=client(event, p.client),
                details={"file_id": p.file_id, "name": p.name, "sha256": p.sha256, "byte_range": p.byte_range})


def commented(event: Event) -> Fact:
    p = event.payload(catalogue.DocumentCommented)
    return Fact(p.document_id, p.owner_id, "commented", user(p.author_id), client=client(event, p.client),
                details={"comment_id": p.comment_id})


def shared(event: Event) -> Fact:
    p = event.payload(catalogue.DocumentShared)
    return Fact(p.document_id, p.owner.user_id, "shared", actor(p.owner), client=client(event, p.client),
                details={"recipient": named(p.recipient),
                         "permission": p.permission},
                access=(AccessChange("shared", p.recipient.user_id, p.grant_version),))


def unshared(event: Event) -> Fact:
    p = event.payload(catalogue.DocumentShareRevoked)
    return Fact(p.document_id, p.owner_id, "unshared", user(p.owner_id), client=client(event, p.client),
                details={"recipient_id": p.recipient_id},
                access=(AccessChange("unshared", p.recipient_id, p.grant_version),))


# --- signing ------------------------------------------------------------------------------

def signature_requested(event: Event) -> Fact:
    p = event.payload(catalogue.SignatureRequested)
    return Fact(p.document_id, p.owner.user_id, "reminded" if p.reminder else "signature_requested",
                actor(p.owner), client=client(event),
                details={"request_id": p.request_id, "signer": named(p.signer),
                         "expires_at": p.expires_at.isoformat() if p.expires_at else None},
                access=(AccessChange("signer", p.signer.user_id),))


def request_expired(event: Event) -> Fact:
    p = event.payload(catalogue.SignatureRequestExpired)
    return Fact(p.document_id, p.owner.user_id, "expired", client=client(event),
                details={"request_id": p.request_id,
                         "pending": [named(person) for person in p.pending_signers]})


def request_cancelled(event: Event) -> Fact:
    p = event.payload(catalogue.SignatureRequestCancelled)
    return owners_act(event, p, "cancelled", request_id=p.request_id)


def signed(event: Event) -> Fact:
    p = event.payload(catalogue.DocumentSigned)
    # ``on_behalf_of``: a delegate signed for a route participant (read by name: routes adds it)
    return Fact(p.document_id, p.owner.user_id, "signed", actor(p.signer), someone(event.data.get("on_behalf_of")),
                client=client(event, p.client),
                details={"file_id": p.file_id, "signature_id": p.signature_id, "request_id": p.request_id,
                         "signed_at": p.signed_at.isoformat(), "time_basis": p.time_basis},
                access=(AccessChange("signer", p.signer.user_id),))


def completed(event: Event) -> Fact:
    p = event.payload(catalogue.DocumentCompleted)
    return Fact(p.document_id, p.owner.user_id, "completed", client=client(event),
                details={"request_id": p.request_id, "completed_at": p.completed_at.isoformat(),
                         "participants": [named(person) for person in p.participants]},
                access=tuple(AccessChange("signer", person.user_id) for person in p.participants))


# --- routes (read by name) -----------------------------------------------------------------

def someone(value: Any) -> Actor | None:
    """A person as a route event may name one: an object with a user id and/or an address, a
    participant holding one as ``person``, or a bare user id."""
    if isinstance(value, str) and value:
        return Actor(user_id=value)
    if isinstance(value, Mapping) and isinstance(value.get("person"), Mapping):
        return someone(value["person"])
    if isinstance(value, Mapping):
        found = Actor(user_id=str(value.get("user_id") or ""), email=str(value.get("email") or ""),
                      name=str(value.get("full_name") or value.get("name") or ""))
        return found if found.user_id or found.email else None
    return None


def people(value: Any) -> list[Actor]:
    values = value if isinstance(value, list) else [value]
    return [a for a in map(someone, values) if a is not None]


def route_fact(event: Event) -> Fact:
    """Any ``route.*`` event: it must name its document; the rest is read when present."""
    data = event.data
    document_id = str(data.get("document_id") or "")
    if not document_id:
        raise ValueError(f"{event.type} names no document_id")
    owner = someone(data.get("owner")) or someone(data.get("owner_id"))
    acting = next((a for name in _ROUTE_ACTORS for a in people(data.get(name))), None)
    seen = next((data[name] for name in _ROUTE_CLIENT if isinstance(data.get(name), Mapping)), None)
    details = {k: plain(v) for k, v in data.items()
               if k not in ("document_id", "owner", "owner_id", "on_behalf_of", *_ROUTE_CLIENT)}
    return Fact(document_id, owner.user_id if owner else "", ROUTE_EVENTS.get(event.type, event.type),
                acting, someone(data.get("on_behalf_of")),
                client(event, Client.model_validate(seen) if seen is not None else None),
                details, tuple(AccessChange("route", user_id) for user_id in sorted(_involved(data))))


def _involved(data: Mapping[str, Any]) -> set[str]:
    """Everyone a route event names; in an access snapshot, those it leaves some access."""
    named = {a.user_id for name in _ROUTE_PEOPLE for a in people(data.get(name)) if a.user_id}
    if data.get("version") is not None and isinstance(data.get("participants"), list):  # route.access_changed
        named = {a.user_id for entry in data["participants"] if isinstance(entry, Mapping)
                 and entry.get("access") != "none" for a in [someone(entry)] if a and a.user_id}
        named |= {str(entry["on_behalf_of"]) for entry in data["participants"]
                  if isinstance(entry, Mapping) and entry.get("on_behalf_of")}
    return named


READERS: dict[str, Callable[[Event], Fact]] = {
    catalogue.DocumentCreated.TYPE: document_created,
    catalogue.DocumentUpdated.TYPE: document_updated,
    catalogue.DocumentDeleted.TYPE: document_deleted,
    catalogue.DocumentFileAdded.TYPE: file_added,
    catalogue.DocumentFileRemoved.TYPE: file_removed,
    catalogue.DocumentViewed.TYPE: viewed,
    catalogue.FileDownloaded.TYPE: downloaded,
    catalogue.DocumentCommented.TYPE: commented,
    catalogue.DocumentShared.TYPE: shared,
    catalogue.DocumentShareRevoked.TYPE: unshared,
    catalogue.SignatureRequested.TYPE: signature_requested,
    catalogue.SignatureRequestExpired.TYPE: request_expired,
    catalogue.SignatureRequestCancelled.TYPE: request_cancelled,
    catalogue.DocumentSigned.TYPE: signed,
    catalogue.DocumentCompleted.TYPE: completed,
    **{event_type: route_fact for event_type in ROUTE_EVENTS},
}
