"""Encrypted file content in GridFS: one sealed chunk per GridFS chunk, so a range decrypts
only the chunks it covers."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from docflow_documents.files.content_type import SNIFF_BYTES
from docflow_documents.files.crypto import (
    CHUNK_SIZE,
    SEALED_CHUNK_SIZE,
    TAG_SIZE,
    ChunkCipher,
    FileKey,
    IntegrityError,
    KeyRing,
    chunk_count,
)
from docflow_shared.mongo import migrate_times, utc_now

logger = logging.getLogger(__name__)

BUCKET = "fs"
# one entry per upload being stored, from its first chunk until its file record exists: what a
# process that died mid-upload leaves there tells the sweeper which chunks nobody will finish
UPLOADS = "uploads"
READ_WINDOW = 4
WRITE_BATCH = 4


class UploadExpired(Exception):
    """The upload stalled for so long that the sweeper took its chunks."""


class BlobWriter:
    """Encrypts and stores a file as it streams in, hashing the plaintext on the way.

    Chunks are written in the GridFS layout (``fs.chunks`` then the ``fs.files`` entry last) in
    small batches, one batch in flight while the next is received: memory stays at a few chunks
    whatever the file size (pymongo's own GridIn would hold up to 48 MB before writing).
    """

    def __init__(self, store: BlobStore, file_id: str, keyring: KeyRing, metadata: dict[str, Any], *,
                 touch_seconds: float) -> None:
        self._store = store
        self._chunks = store.chunks
        self._files = store.files
        self._touch_seconds = touch_seconds
        self._touched = 0.0
        self.file_id = file_id
        self._cipher, self.key = ChunkCipher.new(file_id, keyring)
        self._metadata = metadata
        self._batch: list[dict[str, Any]] = []
        self._pending: asyncio.Task[Any] | None = None
        self._started = False
        self._buffer = bytearray()
        self._index = 0
        self._sha = hashlib.sha256()
        self.size = 0
        self.head = b""

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    async def write(self, data: bytes) -> None:
        self._sha.update(data)
        self.size += len(data)
        if len(self.head) < SNIFF_BYTES:
            self.head += data[: SNIFF_BYTES - len(self.head)]
        self._buffer += data
        while len(self._buffer) > CHUNK_SIZE:
            chunk = bytes(self._buffer[:CHUNK_SIZE])
            del self._buffer[:CHUNK_SIZE]
            await self._seal(chunk, final=False)

    async def finish(self) -> None:
        """Seal the last chunk, write what is left and the ``fs.files`` entry."""
        await self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()
        await self._send(force=True)
        await self._settle()
        # still ours (refreshed within a quarter of the idle limit, or now): the entry and the file
        # record follow well before the sweeper could take it
        await self._touch()
        await self._files.insert_one({
            "_id": self.file_id, "length": self.size + self._index * TAG_SIZE, "chunkSize": SEALED_CHUNK_SIZE,
            "uploadDate": utc_now(), "filename": self.file_id, "metadata": self._metadata,
        })

    async def _seal(self, chunk: bytes, *, final: bool) -> None:
        sealed = self._cipher.seal(self._index, chunk, final=final)
        self._batch.append({"files_id": self.file_id, "n": self._index, "data": sealed})
        self._index += 1
        await self._send()

    async def _send(self, *, force: bool = False) -> None:
        if not self._batch or (len(self._batch) < WRITE_BATCH and not force):
            return
        batch, self._batch = self._batch, []
        await self._settle()
        if not self._started:
            await self._store.uploads.insert_one({"_id": self.file_id, "touched_at": utc_now()})
            self._touched = time.monotonic()
            self._started = True
        else:
            await self._touch()
        self._pending = asyncio.ensure_future(self._chunks.insert_many(batch, ordered=True))

    async def _touch(self) -> None:
        """Tell the sweeper this upload is alive; fails when it was already swept."""
        if time.monotonic() - self._touched < self._touch_seconds:
            return
        # replaced whole: the sweeper compares ``touched_at`` as a date (docflow_shared.mongo)
        touched = await self._store.uploads.replace_one({"_id": self.file_id},
                                                        {"_id": self.file_id, "touched_at": utc_now()})
        if touched.matched_count == 0:
            raise UploadExpired(self.file_id)
        self._touched = time.monotonic()

    async def release(self) -> None:
        """The file record is stored: the content is no longer the sweeper's business."""
        await self._store.uploads.delete_one({"_id": self.file_id})

    async def _settle(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            await pending

    async def abort(self) -> None:
        """Remove whatever was stored of this file."""
        self._buffer.clear()
        self._batch.clear()
        if self._pending is not None:
            self._pending.cancel()
            with contextlib.suppress(BaseException):
                await self._pending
            self._pending = None
        if not self._started:
            return
        await self._store.delete(self.file_id)
        await self.release()


class BlobStore:
    """GridFS bucket of sealed chunks; only this class touches ``fs.files`` / ``fs.chunks``."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], keyring: KeyRing, *,
                 upload_idle_seconds: float = 900.0) -> None:
        self.keyring = keyring
        self.upload_idle_seconds = upload_idle_seconds
        self._bucket = AsyncGridFSBucket(db, bucket_name=BUCKET, chunk_size_bytes=SEALED_CHUNK_SIZE)
        self.chunks = db[f"{BUCKET}.chunks"]
        self.files = db[f"{BUCKET}.files"]
        self.uploads = db[UPLOADS]

    async def create_indexes(self) -> None:
        await migrate_times(self.uploads, ["touched_at"])  # once epoch seconds
        await self.chunks.create_index([("files_id", 1), ("n", 1)], unique=True)
        await self.files.create_index([("filename", 1), ("uploadDate", 1)])
        await self.uploads.create_index([("touched_at", 1)])

    def writer(self, file_id: str, metadata: dict[str, Any]) -> BlobWriter:
        # an upload that receives data says so a few times per idle limit
        return BlobWriter(self, file_id, self.keyring, metadata, touch_seconds=self.upload_idle_seconds / 4)

    async def idle_uploads(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """Uploads that have not stored a chunk for longer than the idle limit."""
        before = utc_now() - timedelta(seconds=self.upload_idle_seconds)
        return await self.uploads.find({"touched_at": {"$lt": before}}).sort("touched_at", 1).limit(limit).to_list()

    async def take_idle_upload(self, upload: dict[str, Any]) -> bool:
        """Claim an idle upload for removal; False when it stored something meanwhile or another
        replica took it."""
        taken = await self.uploads.delete_one({"_id": upload["_id"], "touched_at": upload["touched_at"]})
        return taken.deleted_count == 1

    async def delete(self, file_id: str) -> None:
        """Remove a file's chunks and its ``fs.files`` entry, whichever of them exist."""
        try:
            await self._bucket.delete(file_id)  # the entry, then every chunk
            return
        except NoFile:
            return  # no entry, and the chunks are gone
        except OperationFailure:
            # Some MongoDB-compatible servers delete chunks only through their fs.files entry.
            pass
        with contextlib.suppress(OperationFailure):
            await self.files.insert_one({"_id": file_id, "length": 0, "chunkSize": SEALED_CHUNK_SIZE,
                                         "uploadDate": utc_now(), "filename": file_id})
        with contextlib.suppress(NoFile, OperationFailure):
            await self._bucket.delete(file_id)

    async def read(self, file_id: str, key: FileKey, size: int, start: int, end: int) -> AsyncIterator[bytes]:
        """Plaintext bytes ``start``..``end`` (inclusive), decrypting only the chunks needed.

        The next window of chunks is fetched while the current one is decrypted and sent, so the
        database and the client are busy at the same time; at most two windows are held.
        """
        cipher = ChunkCipher.open(file_id, key, self.keyring)
        last_index = chunk_count(size) - 1
        first, last = start // CHUNK_SIZE, end // CHUNK_SIZE

        def fetch(low: int) -> asyncio.Future[list[dict[str, Any]]] | None:
            if low > last:
                return None
            high = min(last, low + READ_WINDOW - 1)
            query = {"files_id": file_id, "n": {"$gte": low, "$lte": high}}
            return asyncio.ensure_future(self.chunks.find(query, {"n": 1, "data": 1}).sort("n", 1).to_list())

        n = first
        pending = fetch(first)
        try:
            while pending is not None:
                window_end = min(last, n + READ_WINDOW - 1)
                docs = await pending
                pending = fetch(window_end + 1)
                for doc in docs:
                    if int(doc["n"]) != n:
                        raise IntegrityError(f"chunk {n} of file {file_id} is missing")
                    plain = cipher.open_chunk(n, bytes(doc["data"]), final=n == last_index)
                    lo = start - n * CHUNK_SIZE if n == first else 0
                    hi = end - n * CHUNK_SIZE + 1 if n == last else len(plain)
                    yield plain[lo:hi]
                    n += 1
                if not docs or n <= window_end:
                    raise IntegrityError(f"chunk {n} of file {file_id} is missing")
        finally:
            if pending is not None:
                pending.cancel()

    async def exists(self, file_id: str) -> bool:
        return await self.files.find_one({"_id": file_id}, {"_id": 1}) is not None
