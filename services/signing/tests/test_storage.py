"""What signing stores for itself, read back from the real database: the file digest requests
(``DigestRequestDocument``) keep their time as a BSON date and ask again only after a while."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.errors import Unauthorized
from docflow_shared.events import Event, new_event
from docflow_shared.events.catalogue import (
    RouteAccessChanged,
    RouteExternalAccessGranted,
    RouteParticipantAccess,
    SignatureFileDigestsRequested,
)
from docflow_shared.mongo import Document, stored_datetime, utc_now
from docflow_shared.outbox import Outbox
from docflow_signing.projection.repository import ProjectionRepository
from docflow_signing.routes.repository import RouteAccessRepository
from docflow_signing.routes.service import RouteAccessService
from docflow_signing.signatures.digests import ASK_AGAIN, DigestRequestRepository


def request_event() -> Event:
    return new_event(SignatureFileDigestsRequested(document_id="d1", file_id="f1"), producer="signing")


async def test_a_digest_request_is_stored_once_a_while_with_a_date(db: AsyncDatabase[Document]) -> None:
    requests = DigestRequestRepository(db, Outbox())
    await requests.ask("d1", "f1", request_event())
    await requests.ask("d1", "f1", request_event())  # a second signature at the same moment

    stored = await requests.collection.find_one({"_id": "f1"})
    assert stored is not None
    assert isinstance(stored["asked_at"], datetime)
    assert abs(stored["asked_at"] - utc_now()) < timedelta(seconds=5)
    assert len(stored["outbox"]) == 1

    # asked long enough ago (an older entry kept epoch seconds): the next signature asks again
    older = (utc_now() - ASK_AGAIN - timedelta(seconds=1)).timestamp()
    await requests.collection.update_one({"_id": "f1"}, {"$set": {"asked_at": older}})
    await requests.ask("d1", "f1", request_event())
    again = await requests.collection.find_one({"_id": "f1"})
    assert again is not None and len(again["outbox"]) == 2
    assert isinstance(again["asked_at"], datetime)


def access_snapshot(version: int, *, expires_at: datetime, until: datetime | None) -> RouteAccessChanged:
    return RouteAccessChanged(request_id="sr-1", document_id="doc-1", owner_id="u-owner", version=version, open=True,
                              expires_at=expires_at, participants=[
                                  RouteParticipantAccess(user_id="u-1", access="sign", until=until)])


def route_access(db: AsyncDatabase[Document]) -> RouteAccessService:
    return RouteAccessService(repository=RouteAccessRepository(db), projection=ProjectionRepository(db))


def granted(expires_at: datetime) -> RouteExternalAccessGranted:
    return RouteExternalAccessGranted(session_hash=hashlib.sha256(b"tok").hexdigest(), request_id="sr-1",
                                      document_id="doc-1", email="o@x.kz", signer_id="ext:sr-1:000", may_sign=True,
                                      expires_at=expires_at)


async def test_route_access_and_outsider_sessions_keep_times(db: AsyncDatabase[Document]) -> None:
    """The snapshot's times (``$set``: a ``SetTime``) and a session's expiry read back as the
    moments sent, and end access when they pass."""
    routes, now = route_access(db), utc_now()
    day = now + timedelta(days=1)
    await routes.repository.apply(access_snapshot(1, expires_at=day, until=now + timedelta(hours=1)))
    standing = await routes.repository.standing("doc-1", "u-1", ["sign"], open_only=True)
    assert standing is not None and "expires_us" not in standing and "until_us" not in standing
    assert stored_datetime(standing["expires_at"]) == now + timedelta(days=1)
    assert stored_datetime(standing["until"]) == now + timedelta(hours=1)
    assert await routes.signing_turn("doc-1", "u-1") is not None
    await routes.repository.apply(access_snapshot(2, expires_at=day, until=now - timedelta(seconds=1)))
    assert await routes.signing_turn("doc-1", "u-1") is None  # the delegation has ended

    await routes.repository.grant_session(granted(now + timedelta(hours=1)))
    session = await routes.repository.session(hashlib.sha256(b"tok").hexdigest())
    assert session is not None and stored_datetime(session["expires_at"]) == now + timedelta(hours=1)
    assert isinstance(session["expires_at"], datetime)  # replaced whole
    assert (await routes.outsider("tok")).document_id == "doc-1"
    await routes.repository.grant_session(granted(now - timedelta(seconds=1)))
    with pytest.raises(Unauthorized):
        await routes.outsider("tok")


async def test_older_route_access_in_microseconds_still_counts(db: AsyncDatabase[Document]) -> None:
    """Records stored with integer microseconds (``expires_us``, ``until_us``) read the same."""
    routes, now = route_access(db), utc_now()

    def us(at: datetime) -> int:
        return int(at.timestamp() * 1_000_000)

    older = {"request_id": "sr-1", "document_id": "doc-1", "owner_id": "u-owner", "access": "sign", "open": True,
             "on_behalf_of": None, "hide_signatures": False, "version": 1}
    await db.route_access.insert_one({**older, "_id": "sr-1:u-1", "user_id": "u-1", "until_us": None,
                                      "expires_us": us(now + timedelta(days=1))})
    await db.route_access.insert_one({**older, "_id": "sr-1:u-2", "user_id": "u-2", "until_us": us(now),
                                      "expires_us": us(now + timedelta(days=1))})
    await db.route_access.insert_one({**older, "_id": "sr-1:u-3", "user_id": "u-3", "until_us": None,
                                      "expires_us": us(now - timedelta(seconds=1))})
    assert await routes.signing_turn("doc-1", "u-1") is not None
    assert await routes.signing_turn("doc-1", "u-2") is None and await routes.signing_turn("doc-1", "u-3") is None
    session = {"_id": hashlib.sha256(b"tok").hexdigest(), "signer_id": "ext:sr-1:000", "document_id": "doc-1",
               "request_id": "sr-1", "revoked": False}
    await db.external_sessions.insert_one({**session, "expires_us": us(now + timedelta(hours=1))})
    assert (await routes.outsider("tok")).signer_id == "ext:sr-1:000"
    await db.external_sessions.replace_one({"_id": session["_id"]}, {**session, "expires_us": us(now)})
    with pytest.raises(Unauthorized):
        await routes.outsider("tok")
    await db.external_sessions.replace_one({"_id": session["_id"]}, session)  # no expiry at all: refused
    with pytest.raises(Unauthorized):
        await routes.outsider("tok")
