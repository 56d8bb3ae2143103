"""What documents stores of routes' sessions for people outside DocFlow, read back from the real
database: the session's expiry is a BSON date, and one stored earlier as integer microseconds
(``expires_us``) still ends the session on time (docs/architecture.md, "Times")."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from docflow_documents.files.service import FileService
from docflow_documents.outsiders.repository import OutsiderSessionRepository
from docflow_documents.outsiders.service import OutsiderService
from docflow_shared.errors import Unauthorized
from docflow_shared.events import Client
from docflow_shared.events.catalogue import RouteExternalAccessGranted
from docflow_shared.mongo import Document, utc_now

SESSION = hashlib.sha256(b"tok").hexdigest()


class Served:
    """Stands for the file service: records which document a download reached."""

    def __init__(self) -> None:
        self.documents: list[str] = []

    async def serve(self, *, document_id: str, **_: Any) -> str:
        self.documents.append(document_id)
        return document_id


def outsiders(db: AsyncDatabase[Document]) -> tuple[OutsiderService, Served]:
    served = Served()
    return OutsiderService(OutsiderSessionRepository(db), cast(FileService, served)), served


async def download(service: OutsiderService) -> object:
    return await service.download(session_token="tok", file_id="f-1", range_header=None, if_none_match=None,
                                  client=Client())


async def test_a_session_keeps_its_expiry_a_date(db: AsyncDatabase[Document]) -> None:
    service, served = outsiders(db)
    now = utc_now()
    await service.granted(RouteExternalAccessGranted(
        session_hash=SESSION, request_id="sr-1", document_id="doc-1", email="o@x.kz", signer_id="ext:sr-1:000",
        may_sign=False, expires_at=now + timedelta(hours=1)))
    stored = await service.repository.get(SESSION)
    assert stored is not None and isinstance(stored["expires_at"], datetime)
    assert stored["expires_at"] == now + timedelta(hours=1) and "expires_us" not in stored
    await download(service)
    assert served.documents == ["doc-1"]
    await db.external_sessions.update_one({"_id": SESSION}, {"$set": {"expires_at": now - timedelta(seconds=1)}})
    with pytest.raises(Unauthorized):
        await download(service)


async def test_an_older_session_in_microseconds_still_works(db: AsyncDatabase[Document]) -> None:
    service, served = outsiders(db)
    now = utc_now()
    older = {"_id": SESSION, "document_id": "doc-1", "request_id": "sr-1", "signer_id": "ext:sr-1:000",
             "revoked": False}
    await db.external_sessions.insert_one({**older, "expires_us": int((now + timedelta(hours=1)).timestamp() * 1e6)})
    await download(service)
    assert served.documents == ["doc-1"]
    await db.external_sessions.replace_one({"_id": SESSION}, {**older, "expires_us": int(now.timestamp() * 1e6)})
    with pytest.raises(Unauthorized):
        await download(service)
    await db.external_sessions.replace_one({"_id": SESSION}, older)  # no expiry at all: refused
    with pytest.raises(Unauthorized):
        await download(service)
