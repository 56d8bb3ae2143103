"""What signing stores for itself, read back from the real database: the file digest requests
(``DigestRequestDocument``) keep their time as a BSON date and ask again only after a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.events import Event, new_event
from docflow_shared.events.catalogue import SignatureFileDigestsRequested
from docflow_shared.mongo import Document, utc_now
from docflow_shared.outbox import Outbox
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
