"""The rules of a route's stages, as pure functions of the request and its entries.

A stage completes when its acting participants (``approve`` and ``sign``; ``cc`` only watch)
have all acted (rule ``all``) or one has (rule ``any``); a stage without acting participants
left is complete. The open stage is the first incomplete one. Requests stored before stages
existed read as their special cases: parallel is one ``all`` stage, sequential one stage per
signer, every entry a signer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from docflow_routes.requests.repository import SignerDocument, StoredRequest
from docflow_shared.events.catalogue import RouteRole
from docflow_shared.mongo import stored_datetime, utc_now

StageRule = Literal["all", "any"]
ROLES: dict[str, RouteRole] = {"approve": "approve", "sign": "sign", "cc": "cc"}

ACTING = ("approve", "sign")
DONE = ("signed", "approved")


def role_of(entry: SignerDocument) -> RouteRole:
    """The entry's role; entries stored before roles existed are signers."""
    return ROLES.get(str(entry.get("role") or "sign"), "sign")


def stage_of(request: StoredRequest, entry: SignerDocument) -> int:
    if "stage" in entry:
        return int(entry["stage"])
    return int(entry["position"]) if request["order"] == "sequential" else 0


def rules_of(request: StoredRequest, entries: Sequence[SignerDocument]) -> list[StageRule]:
    rules = request.get("stage_rules")
    if rules:
        return ["any" if r == "any" else "all" for r in rules]
    count = max((stage_of(request, e) for e in entries), default=0) + 1
    return ["all"] * count


def stage_complete(rule: str, stage_entries: Sequence[SignerDocument]) -> bool:
    acting = [e for e in stage_entries if role_of(e) in ACTING and e["status"] != "removed"]
    if not acting:
        return True
    done = [e for e in acting if e["status"] in DONE]
    return bool(done) if rule == "any" else len(done) == len(acting)


def open_stage(request: StoredRequest, entries: Sequence[SignerDocument]) -> int | None:
    """The first incomplete stage; None when every stage is complete."""
    for index, rule in enumerate(rules_of(request, entries)):
        if not stage_complete(rule, [e for e in entries if stage_of(request, e) == index]):
            return index
    return None


def your_turn(request: StoredRequest, entries: Sequence[SignerDocument], entry: SignerDocument) -> bool:
    if entry["status"] != "pending" or request["status"] != "open" or role_of(entry) not in ACTING:
        return False
    return stage_of(request, entry) == open_stage(request, entries)


def delegation_active(entry: SignerDocument, now: datetime | None = None) -> bool:
    if not entry.get("delegate_email"):
        return False
    until = stored_datetime(entry.get("delegate_until"))
    return until is None or until > (now or utc_now())
