"""What routes stores, read back through its repositories from the real database: each field has
the type its TypedDict declares. Times written by insert or guarded replacement stay dates; the
times a ``$set`` writes are ``SetTime`` and read with ``stored_datetime`` (docs/architecture.md,
"Times")."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from docflow_routes.deputies.repository import DeputyRepository
from docflow_routes.external.repository import ExternalLinkDocument, ExternalRepository
from docflow_routes.projection.repository import ProjectionRepository
from docflow_routes.requests.repository import SignatureRequestDocument, SignatureRequestRepository, SignerDocument
from docflow_shared.mongo import Document, stored_datetime, utc_now
from docflow_shared.outbox import Outbox


def a_request(request_id: str, now: datetime) -> SignatureRequestDocument:
    return {"_id": request_id, "document_id": f"doc-{request_id}", "owner_id": "u-owner", "order": "parallel",
            "message": "", "expires_at": now + timedelta(days=3), "hide_signatures": False, "status": "open",
            "created_at": now, "closed_at": None, "close_reason": None, "signer_count": 1,
            "stage_rules": ["all"], "reminder_seconds": None, "reminders_sent": 0,
            "next_reminder_at": now + timedelta(days=1), "current_stage": 0, "access": [], "access_version": 1}


def an_entry(request_id: str, now: datetime) -> SignerDocument:
    return {"_id": f"{request_id}:000", "request_id": request_id, "document_id": f"doc-{request_id}",
            "user_id": "u-signer", "email": "s@x.kz", "email_key": "s@x.kz", "full_name": "S", "position": 0,
            "stage": 0, "role": "sign", "status": "pending", "signed_at": None, "signature_id": None,
            "acted_by": None, "acted_at": None, "decline_reason": None, "delegate_email": None,
            "delegate_user_id": None, "delegate_until": None, "external": False, "created_at": now,
            "require_sign_right": False}


async def test_a_request_and_its_signers_read_back_as_stored(db: AsyncDatabase[Document]) -> None:
    requests = SignatureRequestRepository(db, Outbox())
    await requests.create_indexes()
    now = utc_now()
    await requests.insert(a_request("sr-1", now), [an_entry("sr-1", now)], [])

    [listed] = await requests.open_for_documents("doc-sr-1")
    assert isinstance(listed["created_at"], datetime) and listed["created_at"] == now
    assert isinstance(listed["next_reminder_at"], datetime) and listed["next_reminder_at"] == now + timedelta(days=1)
    assert listed["open_key"] == "doc-sr-1" and listed["stage_rules"] == ["all"]
    assert isinstance(listed["outbox_rev"], int)

    current = await requests.get("sr-1")
    assert current is not None
    closed = await requests.update(current, {"status": "completed", "closed_at": now, "close_reason": "completed"})
    assert closed["open_key"] == "closed:sr-1"
    [stored] = (await requests.many(["sr-1"])).values()
    assert isinstance(stored["closed_at"], datetime) and stored["closed_at"] == now  # a replacement keeps dates
    assert isinstance(stored["expires_at"], datetime)

    [entry] = await requests.signers_of("sr-1")
    assert isinstance(entry["created_at"], datetime) and entry["created_at"] == now
    assert isinstance(entry["position"], int) and entry["user_id"] == "u-signer"
    await requests.note_without_sign_right(entry["_id"], [{"signature_id": "sig-0", "signed_at": now,
                                                             "signer_role": None}])
    [entry] = await requests.signers_of("sr-1")
    [without] = entry["signatures_without_sign_right"]
    # a date inside a list that ``$set`` writes stays a date
    assert without["signature_id"] == "sig-0" and isinstance(without["signed_at"], datetime)
    assert without["signed_at"] == now
    signed_at = now + timedelta(seconds=5)
    assert await requests.mark_signed(entry["_id"], signature_id="sig-1", at=signed_at, by="u-signer")
    [entry] = await requests.signers_of("sr-1")
    assert entry["status"] == "signed" and entry["signature_id"] == "sig-1"
    assert stored_datetime(entry["signed_at"]) == signed_at  # ``$set``: a SetTime


async def test_a_deputy_reads_back_as_stored(db: AsyncDatabase[Document]) -> None:
    deputies = DeputyRepository(db)
    now = utc_now()
    await deputies.put("u-away", email="d@x.kz", starts_at=now, until=now + timedelta(days=7), at=now)
    stored = await deputies.get("u-away")
    assert stored is not None
    assert isinstance(stored["starts_at"], datetime) and stored["starts_at"] == now
    assert isinstance(stored["until"], datetime) and stored["until"] == now + timedelta(days=7)
    assert isinstance(stored["updated_at"], datetime)


def a_link(link_id: str, now: datetime) -> ExternalLinkDocument:
    return {"_id": link_id, "token_hash": f"th-{link_id}", "request_id": "sr-x", "document_id": "doc-x",
            "entry_id": "sr-x:000", "email": "o@x.kz", "delegate": False, "state": "new",
            "expires_at": now + timedelta(days=1), "code_sends": 0, "last_code_at": None, "failures": 0,
            "created_at": now}


async def test_a_link_and_a_session_read_back_as_stored(db: AsyncDatabase[Document]) -> None:
    external = ExternalRepository(db)
    await external.create_indexes()
    now = utc_now()
    await external.insert_link(a_link("xl-1", now))
    gap = timedelta(minutes=1)
    claimed = await external.claim_code("xl-1", code_hash="ch", now=now, code_expires_at=now + timedelta(minutes=10),
                                        gap=gap, max_sends=3)
    assert claimed is not None and claimed["code_sends"] == 1
    # a resend within the gap is refused; the code is spent once
    assert await external.claim_code("xl-1", code_hash="ch2", now=now + timedelta(seconds=30),
                                     code_expires_at=now + timedelta(minutes=10), gap=gap, max_sends=3) is None
    assert not await external.use("xl-1", code_hash="wrong", now=now)
    assert await external.use("xl-1", code_hash="ch", now=now + timedelta(seconds=1))
    link = await external.link_by_hash("th-xl-1")
    assert link is not None and link["state"] == "used" and link["created_at"] == now
    for field in ("expires_at", "code_expires_at", "last_code_at", "used_at"):
        assert isinstance(link[field], datetime), field  # type: ignore[literal-required]
    assert link["last_code_at"] == now and link["used_at"] == now + timedelta(seconds=1)
    assert await db.external_links.count_documents({"code_expires_at": {"$gt": now}, "used_at": {"$gte": now}}) == 1

    await external.insert_session({"_id": "sh-1", "link_id": "xl-1", "request_id": "sr-x", "document_id": "doc-x",
                                   "entry_id": "sr-x:000", "email": "o@x.kz", "delegate": False,
                                   "signer_id": "ext:sr-x:000", "expires_at": now + timedelta(hours=1),
                                   "created_at": now})
    session = await external.session("sh-1")
    assert session is not None and isinstance(session["created_at"], datetime)
    assert isinstance(session["expires_at"], datetime) and session["expires_at"] == now + timedelta(hours=1)
    assert [s["_id"] for s in await external.sessions_of("sr-x")] == ["sh-1"]


async def test_two_spends_of_one_link_have_one_winner(db: AsyncDatabase[Document]) -> None:
    external = ExternalRepository(db)
    await external.create_indexes()
    now = utc_now()
    for n in range(5):
        await external.insert_link(a_link(f"xl-{n}", now))
        assert await external.claim_code(f"xl-{n}", code_hash="ch", now=now, code_expires_at=now + timedelta(minutes=5),
                                         gap=timedelta(minutes=1), max_sends=3)
        spends = await asyncio.gather(*(external.use(f"xl-{n}", code_hash="ch", now=now) for _ in range(4)))
        assert sorted(spends) == [False, False, False, True]
    # two asking for a code at once: one is sent, the other waits out the gap
    await external.insert_link(a_link("xl-c", now))
    claims = await asyncio.gather(*(external.claim_code(
        "xl-c", code_hash=f"c{n}", now=now, code_expires_at=now + timedelta(minutes=5), gap=timedelta(minutes=1),
        max_sends=3) for n in range(3)))
    assert len([c for c in claims if c is not None]) == 1


async def test_older_links_and_sessions_in_microseconds_work_after_start(db: AsyncDatabase[Document]) -> None:
    """Links and sessions stored with integer microseconds (``*_us``) are rewritten at start."""
    now = utc_now()

    def us(at: datetime) -> int:
        return int(at.timestamp() * 1_000_000)

    older = {key: value for key, value in a_link("xl-old", now).items()
             if key not in ("expires_at", "last_code_at")}
    await db.external_links.insert_one({**older, "expires_us": us(now + timedelta(days=1)), "last_code_us": 0,
                                        "code_hash": "old", "code_expires_us": us(now + timedelta(minutes=5))})
    await db.external_links.insert_one({**older, "_id": "xl-gone", "token_hash": "th-gone", "state": "used",
                                        "expires_us": us(now), "used_us": us(now), "last_code_us": us(now)})
    await db.external_sessions.insert_one({"_id": "sh-old", "link_id": "xl-old", "request_id": "sr-x",
                                           "expires_us": us(now + timedelta(hours=1)), "created_at": now})
    external = ExternalRepository(db)
    await external.create_indexes()
    link = await external.link_by_hash("th-xl-old")
    assert link is not None and link["expires_at"] == now + timedelta(days=1) and "expires_us" not in link
    assert link["code_expires_at"] == now + timedelta(minutes=5) and link["outbox_rev"] == 1
    gone = await external.link_by_hash("th-gone")
    assert gone is not None and gone["used_at"] == now and gone["last_code_at"] == now
    session = await external.session("sh-old")
    assert session is not None and session["expires_at"] == now + timedelta(hours=1)
    # the older link still takes its code, once
    assert await external.use("xl-old", code_hash="old", now=now)
    assert not await external.use("xl-old", code_hash="old", now=now)
    await external.create_indexes()  # a later start finds nothing to rewrite
    assert (await external.link_by_hash("th-xl-old") or {}).get("outbox_rev") == 2


async def test_a_signature_reads_back_as_recorded(db: AsyncDatabase[Document]) -> None:
    projection = ProjectionRepository(db)
    await projection.create_indexes()
    at = utc_now()
    await projection.record_signature(signature_id="sig-9", request_id="sr-9", signer_id="u-9", signed_at=at,
                                      signer_role="head", sign_right=True)
    [stored] = await projection.signatures_for("sr-9", "u-9")
    assert isinstance(stored["signed_at"], datetime) and stored["signed_at"] == at
    assert isinstance(stored["signed_at_us"], int)
    assert stored["signer_role"] == "head" and stored["sign_right"] is True
