"""Which users an event concerns, and the links a notification of it carries.

Catalogue events name their people in known fields; events of other services that are not in
the catalogue (``route.*`` from routes, ``document.commented``) are read by the same field
names, so a new producer that follows the catalogue's naming is understood without a change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

API = "/api/v1"

ROUTE_TYPES = ("route.created", "route.stage_opened", "route.approved", "route.declined", "route.delegated",
               "route.completed", "route.expired")

# the people each event type concerns: fields holding a person ({"user_id": ...}), a list of
# persons, a user id or a list of user ids
PEOPLE: dict[str, tuple[str, ...]] = {
    "document.shared": ("recipient", "recipient_id"),
    "document.commented": ("owner", "owner_id"),
    "signature.requested": ("signer", "signer_id"),
    "signature.request_expired": ("owner",),
    "document.signed": ("owner", "signer"),
    "document.completed": ("owner", "participants"),
    "mail.failed": ("user_id",),
    **{event_type: ("owner", "owner_id", "participants", "participant_ids", "user_id", "user_ids", "signer",
                    "signers", "signer_ids", "approver_ids", "delegate_id", "deputy_id")
       for event_type in ROUTE_TYPES},
}

# who did the thing is not told about it
ACTORS = ("author_id", "actor_id")

STREAM_TYPES: tuple[str, ...] = tuple(PEOPLE)


def _ids(value: Any) -> Iterable[str]:
    if isinstance(value, str) and value:
        yield value
    elif isinstance(value, Mapping):
        user_id = value.get("user_id")
        if isinstance(user_id, str) and user_id:
            yield user_id
    elif isinstance(value, list):
        for item in value:
            yield from _ids(item)


def concerned_users(event_type: str, data: Mapping[str, Any]) -> list[str]:
    """The users ``event_type`` with ``data`` concerns, each once, in the order found."""
    actors = {data.get(field) for field in ACTORS}
    users: dict[str, None] = {}
    for field in PEOPLE.get(event_type, ()):
        for user_id in _ids(data.get(field)):
            if user_id not in actors:
                users[user_id] = None
    return list(users)


def document_owner(data: Mapping[str, Any]) -> str | None:
    """The owner of the document an event is about, when it says."""
    owner = data.get("owner_id")
    if isinstance(owner, str) and owner:
        return owner
    person = data.get("owner")
    if isinstance(person, Mapping) and isinstance(person.get("user_id"), str):
        return str(person["user_id"])
    return None


def links(event_type: str, data: Mapping[str, Any]) -> dict[str, str]:
    """API paths to the resources an event is about (no content: the API checks access)."""
    out: dict[str, str] = {}
    document_id = data.get("document_id")
    if isinstance(document_id, str) and document_id:
        document = f"{API}/documents/{document_id}"
        out["document"] = document
        if isinstance(data.get("file_id"), str):
            out["file"] = f"{document}/files/{data['file_id']}"
        if event_type == "document.commented":
            out["comments"] = f"{document}/comments"
        if event_type in ("document.signed", "document.completed"):
            out["signatures"] = f"{document}/signatures"
        if data.get("request_id") or data.get("route_id") or event_type.startswith(("signature.", "route.")):
            out["signature_requests"] = f"{document}/signature-requests"
    if event_type in ("document.shared", "signature.requested"):
        out["inbox"] = f"{API}/inbox"
    if event_type == "mail.failed":
        out["profile"] = f"{API}/users/me"
    return out
