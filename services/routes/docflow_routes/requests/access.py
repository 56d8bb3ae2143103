"""What signing learns of a request: a snapshot of who may see and sign, sent when it changes.

Signing asks routes nothing; it keeps the latest snapshot of each request it has received
(``route.access_changed``, the highest ``version`` wins), so every write that changes the
snapshot carries it in the same outbox write (docs/architecture.md, "Routes")."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from docflow_routes.requests.repository import SignerDocument, StoredRequest
from docflow_routes.requests.stages import delegation_active, open_stage, role_of, stage_of
from docflow_shared.events import Event, EventPayload
from docflow_shared.events.catalogue import RouteAccessChanged, RouteParticipantAccess
from docflow_shared.mongo import stored_datetime

CLOSED_WITHOUT_ACCESS = ("cancelled", "expired", "declined")


def snapshot(request: StoredRequest, status: str, entries: Sequence[SignerDocument]) -> list[dict[str, Any]]:
    """Each bound participant's standing (and their delegate's), as stored on the request and
    sent to signing."""
    current = open_stage(request, entries) if status == "open" else None  # the stages do not read the status
    result: list[dict[str, Any]] = []
    for entry in entries:
        level = _level(request, status, entry, current)
        if entry["user_id"] is not None:
            result.append({"user_id": str(entry["user_id"]), "access": level, "on_behalf_of": None, "until": None})
        # the participant through a link's session, known to signing by this identity (listed even
        # once an account is bound, so a snapshot never drops an identity signing holds)
        result.append({"user_id": f"ext:{entry['_id']}", "access": level, "on_behalf_of": None, "until": None})
        if entry.get("delegate_email") and not entry.get("delegate_user_id"):
            result.append({"user_id": f"ext:{entry['_id']}:d", "access": level if delegation_active(entry) else "none",
                           "on_behalf_of": entry["user_id"], "until": _iso(entry.get("delegate_until"))})
        if entry.get("delegate_user_id"):
            result.append({"user_id": str(entry["delegate_user_id"]),
                           "access": level if delegation_active(entry) else "none",
                           "on_behalf_of": entry["user_id"], "until": _iso(entry.get("delegate_until"))})
    return result


def _iso(value: object) -> str | None:
    """A time as stored in the snapshot: text, so a stored snapshot compares equal to a fresh one."""
    at = stored_datetime(value)
    return None if at is None else at.isoformat()


def _level(request: StoredRequest, status: str, entry: SignerDocument, current: int | None) -> str:
    if status in CLOSED_WITHOUT_ACCESS or entry["status"] == "removed":
        return "none"
    if status != "open" or entry["status"] != "pending" or role_of(entry) != "sign":
        return "view"
    stage = stage_of(request, entry)
    if current is None or stage < current:
        return "view"
    return "sign" if stage == current else "wait"


def with_access(request: StoredRequest, entries: Sequence[SignerDocument], changes: Mapping[str, Any],
                make_event: Callable[[EventPayload], Event]) -> tuple[dict[str, Any], list[Event]]:
    """``changes`` plus the new snapshot and its event, when the snapshot differs from the stored one."""
    status = str(changes.get("status", request["status"]))
    current = snapshot(request, status, entries)
    if current == request.get("access") and status == request["status"]:
        return dict(changes), []
    version = int(request.get("access_version") or 0) + 1
    event = make_event(access_changed(request, current, version=version, status=status))
    return {**changes, "access": current, "access_version": version}, [event]


def access_changed(request: StoredRequest, participants: list[dict[str, Any]], *, version: int,
                   status: str) -> RouteAccessChanged:
    return RouteAccessChanged(
        request_id=request["_id"], document_id=request["document_id"], owner_id=request["owner_id"],
        version=version, open=status == "open", hide_signatures=bool(request.get("hide_signatures")),
        expires_at=request.get("expires_at"),
        participants=[RouteParticipantAccess.model_validate(p) for p in participants],
    )
