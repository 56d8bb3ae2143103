"""What a consumed event adds to a document's evidence trail. Events are read by name with a
tolerant reader (``route.*`` belongs to the routes service, whatever optional fields it carries)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from docflow_shared.events import Event
from docflow_signing.evidence.repository import TrailEntry

# the document.* events signing's projection consumes: the trail records them alongside
PROJECTED = (
    "document.created", "document.updated", "document.deleted", "document.file_added",
    "document.file_removed", "document.shared", "document.share_revoked",
)
# consumed for the trail alone
READS = ("document.viewed", "file.downloaded", "document.commented")
ROUTE_EVENTS = (
    "route.created", "route.stage_opened", "route.approved", "route.declined", "route.delegated",
    "route.signed", "route.completed", "route.expired", "route.cancelled",
)

# who acted, in the order looked for; a person is an object with ``user_id`` or a bare id
_ACTORS = ("viewer_id", "downloader_id", "author_id", "actor", "by", "delegator", "participant",
           "approver", "signer", "decliner", "owner", "owner_id")
_SKIPPED = frozenset({"document_id", "client", "origin", "owner_id", "owner", "message"})


def _person_id(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        found = value.get("user_id")
        return str(found) if found else None
    return None


def _detail(value: Any) -> Any:
    """Scalars as they are; a person by name and address; anything else as its text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping) and "user_id" in value:
        return {k: value.get(k) for k in ("user_id", "full_name", "email") if value.get(k) is not None}
    if isinstance(value, list):
        return [_detail(v) for v in value]
    return str(value)


def entry_of(event: Event) -> TrailEntry | None:
    """The trail entry of an event, None when it names no document."""
    data = event.data
    document_id = data.get("document_id")
    if not isinstance(document_id, str) or not document_id:
        return None
    actor = next((found for key in _ACTORS if (found := _person_id(data.get(key)))), None)
    client = data.get("client") or data.get("origin") or {}
    client = client if isinstance(client, Mapping) else {}
    details = {k: _detail(v) for k, v in data.items() if k not in _SKIPPED}
    if event.type == "document.created":
        details["version"] = 1
    return TrailEntry(
        _id=str(event.id), document_id=document_id, type=event.type, at=event.occurred_at, actor_id=actor,
        details=details, ip=str(client.get("ip") or ""), user_agent=str(client.get("user_agent") or ""),
        request_id=str(client.get("request_id") or event.correlation_id or ""),
    )
