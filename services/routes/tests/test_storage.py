"""What routes stores, read back through its repositories from the real database: each field has
the type its TypedDict declares. Times written by insert or guarded replacement stay dates; the
times a ``$set`` writes are ``SetTime`` and read with ``stored_datetime`` (docs/architecture.md,
"Times")."""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from docflow_routes.deputies.repository import DeputyRepository
from docflow_routes.external.repository import ExternalRepository
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


async def test_a_link_and_a_session_read_back_as_stored(db: AsyncDatabase[Document]) -> None:
    external = ExternalRepository(db)
    await external.create_indexes()
    now = utc_now()
    await external.insert_link({"_id": "xl-1", "token_hash": "th-1", "request_id": "sr-x", "document_id": "doc-x",
                                "entry_id": "sr-x:000", "email": "o@x.kz", "delegate": False, "state": "new",
                                "expires_us": 2_000, "code_sends": 0, "last_code_us": 0, "failures": 0,
                                "created_at": now})
    claimed = await external.claim_code("xl-1", code_hash="ch", now_us=1_000, code_expires_us=1_500, gap_us=10,
                                        max_sends=3)
    assert claimed is not None and claimed["code_sends"] == 1 and isinstance(claimed["last_code_us"], int)
    link = await external.link_by_hash("th-1")
    assert link is not None and isinstance(link["created_at"], datetime) and link["created_at"] == now

    await external.insert_session({"_id": "sh-1", "link_id": "xl-1", "request_id": "sr-x", "document_id": "doc-x",
                                   "entry_id": "sr-x:000", "email": "o@x.kz", "delegate": False,
                                   "signer_id": "ext:sr-x:000", "expires_us": 3_000, "created_at": now})
    session = await external.session("sh-1")
    assert session is not None and isinstance(session["created_at"], datetime) and session["expires_us"] == 3_000
    assert [s["_id"] for s in await external.sessions_of("sr-x")] == ["sh-1"]


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
