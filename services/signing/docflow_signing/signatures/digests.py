"""The Streebog digests of a stored file, for its GOST signatures: asked of documents by event, read
from the projection.

Signing never calls documents (docs/architecture.md, "GOST signatures"). The first GOST signature
of a file publishes ``signature.file_digests_requested``; documents hashes the stored content once
and answers with ``document.file_digested``, which the projection keeps. The signature request
waits for that answer a few seconds on the projection, then answers 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared import streebog
from docflow_shared.errors import NotFound, Unavailable
from docflow_shared.events import Event, EventPayload
from docflow_shared.events.catalogue import SignatureFileDigestsRequested
from docflow_shared.mongo import Document, stored_datetime, utc_now
from docflow_shared.outbox import Outbox, StaleDocument, read_one
from docflow_shared.repository import Repository, Stored
from docflow_shared.streebog import PACKAGE
from docflow_signing.projection.repository import ProjectionRepository

DIGEST_REQUESTS = "file_digest_requests"
ASK_AGAIN = timedelta(seconds=30)
POLL_SECONDS = 0.2


class DigestRequestDocument(Stored, total=False):
    _id: str  # the file's id
    document_id: str
    asked_at: datetime  # when the request event was last stored (epoch seconds in older entries)


class DigestRequestRepository(Repository[DigestRequestDocument]):
    """One entry per stored file whose digests signing asked for, carrying the request event."""

    def __init__(self, db: AsyncDatabase[Document], outbox: Outbox) -> None:
        super().__init__(db[DIGEST_REQUESTS], outbox)

    async def create_indexes(self) -> None:
        await self.collection.create_index([("document_id", ASCENDING)])

    async def ask(self, document_id: str, file_id: str, event: Event) -> None:
        """Store ``event`` for the relay unless the same file was asked for less than a while ago."""
        current = await read_one(self.collection, {"_id": file_id})
        now = utc_now()
        try:
            if current is None:
                await self.add({"_id": file_id, "document_id": document_id, "asked_at": now}, [event])
            elif (asked := stored_datetime(current.get("asked_at"))) is None or now - asked >= ASK_AGAIN:
                await self.update(current, {"asked_at": now}, [event])
        except (DuplicateKeyError, StaleDocument):
            pass  # a concurrent signature asked at the same moment


class StoredFileDigests:
    """Streebog-512 of stored files, from the projection once documents has answered."""

    def __init__(self, *, requests: DigestRequestRepository, projection: ProjectionRepository,
                 make_event: Callable[[EventPayload], Event], wait_seconds: float) -> None:
        self.requests = requests
        self.projection = projection
        self.make_event = make_event
        self.wait_seconds = wait_seconds

    async def streebog(self, file: Document) -> dict[int, bytes]:
        """The file's Streebog-256 and -512 by bits; asks documents and waits for them the first time,
        503 after the wait."""
        if not streebog.available():
            raise streebog.GostUnavailable()  # this service could not verify the signature anyway
        if file.get("streebog512"):
            return _digests(file)
        document_id, file_id = file["document_id"], file["_id"]
        event = self.make_event(SignatureFileDigestsRequested(document_id=document_id, file_id=file_id))
        await self.requests.ask(document_id, file_id, event)
        deadline = time.monotonic() + self.wait_seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            current = await self.projection.file(document_id, file_id)
            if current is None:
                raise NotFound("File not found.")
            if current.get("streebog512"):
                return _digests(current)
        raise Unavailable("DocFlow is computing this file's Streebog digest for its first GOST signature; "
                          "send the signature again in a few seconds. If this persists, the documents service "
                          f"may lack OpenSSL's GOST provider ({PACKAGE}).", slug="file-digest-pending",
                          retry_after=5)


def _digests(file: Document) -> dict[int, bytes]:
    return {256: bytes.fromhex(file["streebog256"]), 512: bytes.fromhex(file["streebog512"])}
