"""Files of a document: streamed encrypted upload, ranged download, rename, delete, ZIP listing."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import KW_ONLY, dataclass
from typing import Any

from pymongo.errors import PyMongoError

from docflow_documents.activity.service import ActivityLog
from docflow_documents.documents.access import AccessPolicy
from docflow_documents.documents.repository import SignatureRecordRepository
from docflow_documents.documents.service import MakeEvent
from docflow_documents.files import events
from docflow_documents.files.blob_store import BlobStore, BlobWriter, UploadExpired
from docflow_documents.files.content_type import detect_content_type
from docflow_documents.files.crypto import FileKey, IntegrityError
from docflow_documents.files.multipart_upload import MultipartFileReader
from docflow_documents.files.naming import content_disposition, sanitize_filename
from docflow_documents.files.ranges import parse_range
from docflow_documents.files.repository import FileRepository
from docflow_documents.files.schemas import FileDownload, FileRead, FileUpdate, FileUploaded, ZipListingRead
from docflow_documents.files.zip_listing import ZipLimits, list_zip
from docflow_documents.ids import ID_LENGTH, LISTING_ORDER, checked_id, sort_key, stamp
from docflow_shared.errors import Conflict, NotFound, PayloadTooLarge, RequestTimeout, Unprocessable, field_error
from docflow_shared.events import Client
from docflow_shared.ids import new_id
from docflow_shared.outbox import Whole, retry_stale
from docflow_shared.pagination import Page
from docflow_shared.streebog import GostUnavailable
from docflow_shared.streebog import new as streebog

MULTIPART_SLACK = 64 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024

logger = logging.getLogger(__name__)


class _TooLarge(Exception):
    pass


@dataclass
class FileService:
    files: FileRepository
    blobs: BlobStore
    access: AccessPolicy
    event: MakeEvent
    _: KW_ONLY
    max_bytes: int
    zip_limits: ZipLimits
    signatures: SignatureRecordRepository
    activity: ActivityLog

    async def upload(self, *, user_id: str, document_id: str, content_type: str | None,
                     content_length: int | None, body: AsyncIterator[bytes]) -> FileUploaded:
        access = await self.access.resolve(document_id, user_id)
        access.require_owner()
        if await self.signatures.has_open_request(document_id):
            raise Conflict("The document has an open signature request; files cannot be added until it closes.",
                           slug="request-open")
        reader = MultipartFileReader(content_type, body)
        if content_length is not None and content_length > self.max_bytes + MULTIPART_SLACK:
            if content_length <= self.max_bytes + DRAIN_LIMIT:
                await reader.drain(DRAIN_LIMIT + self.max_bytes)
            raise self._too_large()
        doc = access.document
        file_id = new_id(length=ID_LENGTH)
        writer = self.blobs.writer(file_id, {"document_id": doc["_id"], "owner_id": doc["owner_id"]})
        await self._receive(reader, writer)
        record = self._record(doc, file_id, writer, reader, user_id)
        try:
            await self.files.add(record, [self.event(events.added(record))])
        except BaseException:
            await writer.abort()
            raise
        with contextlib.suppress(PyMongoError):  # else the sweeper finds the record and keeps the content
            await writer.release()
        duplicates = await self.files.same_content(doc["owner_id"], record["sha256"], file_id)
        return FileUploaded(**FileRead.from_doc(record).model_dump(),
                            duplicates=[FileRead.from_doc(d) for d in duplicates])

    async def _receive(self, reader: MultipartFileReader, writer: BlobWriter) -> None:
        try:
            async for data in reader.file_data():
                if writer.size + len(data) > self.max_bytes:
                    raise _TooLarge
                await writer.write(data)
            if writer.size == 0:
                raise Unprocessable("The file is empty.", slug="empty-file",
                                    errors=[field_error("file", "The file is empty.", "empty")])
            await writer.finish()
        except _TooLarge:
            await writer.abort()
            await reader.drain(DRAIN_LIMIT)
            raise self._too_large() from None
        except UploadExpired:
            await writer.abort()
            raise RequestTimeout("The upload stalled for too long and was dropped; send the file again.",
                                 slug="upload-stalled") from None
        except BaseException:
            await writer.abort()
            raise

    def _too_large(self) -> PayloadTooLarge:
        limit_mb = self.max_bytes / (1024 * 1024)
        return PayloadTooLarge(f"Files may be at most {limit_mb:g} MB.", slug="file-too-large")

    def _record(self, doc: dict[str, Any], file_id: str, writer: BlobWriter, reader: MultipartFileReader,
                user_id: str) -> dict[str, Any]:
        now, now_us = stamp()
        return {
            "_id": file_id, "document_id": doc["_id"], "owner_id": doc["owner_id"], "uploaded_by": user_id,
            "name": sanitize_filename(reader.filename), "size": writer.size, "sha256": writer.sha256,
            "content_type": detect_content_type(writer.head), "encryption": writer.key.to_document(),
            "created_at": now, "created_us": now_us, "sort_key": sort_key(now_us, file_id),
            "updated_at": now, "deleted_at": None,
        }

    async def list(self, *, user_id: str, document_id: str, cursor: str | None, limit: int) -> Page[FileRead]:
        await self.access.resolve(document_id, user_id)
        docs, next_cursor = LISTING_ORDER.page(await self.files.page(document_id, cursor, limit + 1), limit)
        return Page[FileRead](items=[FileRead.from_doc(d) for d in docs], next_cursor=next_cursor)

    async def _file(self, document_id: str, file_id: str) -> Whole:
        doc = await self.files.in_document(document_id, checked_id(file_id, "file"))
        if doc is None:
            raise NotFound("No such file.")
        return doc

    async def get(self, *, user_id: str, document_id: str, file_id: str) -> FileRead:
        await self.access.resolve(document_id, user_id)
        return FileRead.from_doc(await self._file(document_id, file_id))

    async def download(self, *, user_id: str, document_id: str, file_id: str, range_header: str | None,
                       if_none_match: str | None, client: Client) -> FileDownload:
        await self.access.resolve(document_id, user_id)
        return await self.serve(document_id=document_id, file_id=file_id, range_header=range_header,
                                if_none_match=if_none_match, downloader_id=user_id, client=client)

    async def serve(self, *, document_id: str, file_id: str, range_header: str | None,
                    if_none_match: str | None, downloader_id: str, client: Client) -> FileDownload:
        """A file's content for a caller already allowed to read the document (audited as theirs)."""
        doc = await self._file(document_id, file_id)
        size, etag = int(doc["size"]), f'"{doc["sha256"]}"'
        headers = {"ETag": etag, "Accept-Ranges": "bytes", "Content-Type": doc["content_type"],
                   "Content-Disposition": content_disposition(doc["name"]), "Cache-Control": "private, no-cache",
                   "X-Content-Type-Options": "nosniff"}
        if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
            return FileDownload(304, headers)
        span = parse_range(range_header, size)
        start, end = span if span else (0, size - 1)
        headers["Content-Length"] = str(end - start + 1)
        key = FileKey.from_document(doc["encryption"])
        body = self.blobs.read(doc["_id"], key, size, start, end)
        await self.activity.downloaded(doc, downloader_id, "" if span is None else f"{start}-{end}", client)
        if span is None:
            return FileDownload(200, headers, body)
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return FileDownload(206, headers, body)

    async def publish_digests(self, file_id: str) -> None:
        """Answer signing's request for a stored file's Streebog-256 and -512 with ``document.file_digested``.

        They are computed once, on the first request, from the stored content, and kept on the
        file record; a later request publishes them again. Not computed while the upload streams:
        both digests cost about ten times the CPU of the upload's SHA-256 and encryption together,
        and only GOST-signed files need them (docs/architecture.md, "GOST signatures").
        """
        doc = await self.files.get(file_id)
        if doc is None:
            return  # deleted meanwhile: signing learns that from document.file_removed
        if "streebog512" in doc:
            await self.files.update(doc, {}, [self.event(events.digested(doc))])
            return
        try:
            digests = await self._streebog(doc)
        except GostUnavailable:
            logger.error("cannot digest file %s: OpenSSL's GOST provider is not installed", file_id)
            return

        async def attempt() -> None:
            current = await self.files.get(file_id)
            if current is not None and "streebog512" not in current:
                current = await self.files.update(current, digests)
            if current is not None:
                await self.files.update(current, {}, [self.event(events.digested(current))])

        await retry_stale(attempt)

    async def _streebog(self, doc: Whole) -> dict[str, str]:
        """Streebog-256 and -512 of the stored plaintext, hashed off the event loop chunk by chunk;
        the SHA-256 is recomputed alongside and must match the record."""
        hashes = {"sha256": hashlib.sha256(), "streebog256": streebog(256), "streebog512": streebog(512)}

        def update(chunk: bytes) -> None:
            for h in hashes.values():
                h.update(chunk)

        size = int(doc["size"])
        async for chunk in self.blobs.read(doc["_id"], FileKey.from_document(doc["encryption"]), size, 0, size - 1):
            await asyncio.to_thread(update, chunk)
        found = {name: h.hexdigest() for name, h in hashes.items()}
        if found.pop("sha256") != doc["sha256"]:
            raise IntegrityError(f"the content of file {doc['_id']} does not match its SHA-256")
        return found

    async def rename(self, *, user_id: str, document_id: str, file_id: str, data: FileUpdate) -> FileRead:
        async def attempt() -> dict[str, Any]:
            access = await self.access.resolve(document_id, user_id)
            access.require_owner()
            doc = await self._file(document_id, file_id)
            await self._refuse_if_signed(file_id)
            now, _ = stamp()
            return await self.files.update(doc, {"name": sanitize_filename(data.name), "updated_at": now})

        return FileRead.from_doc(await retry_stale(attempt))

    async def delete(self, *, user_id: str, document_id: str, file_id: str) -> None:
        async def attempt() -> None:
            access = await self.access.resolve(document_id, user_id)
            access.require_owner()
            doc = await self._file(document_id, file_id)
            await self._refuse_if_signed(file_id)
            await self.soft_delete(doc)

        await retry_stale(attempt)

    async def _refuse_if_signed(self, file_id: str) -> None:
        """A signed file is fixed: its name and its presence are part of what was signed
        (docs/architecture.md); a new version goes through a new request."""
        if await self.signatures.file_signed(file_id):
            raise Conflict("The file has a signature and cannot be renamed or deleted; upload a new version "
                           "and request signatures for it.", slug="file-signed")

    async def soft_delete(self, doc: Whole) -> None:
        """Hide the file now; the record is purged once ``document.file_removed`` is published, and
        the encrypted content is dropped when that event comes back to this service."""
        now, _ = stamp()
        await self.files.soft_delete(doc, [self.event(events.removed(doc))], at=now)

    async def delete_all_of_document(self, document_id: str) -> int:
        count = 0
        for doc in await self.files.live_of_document(document_id):
            async def attempt(file_id: str = doc["_id"]) -> None:
                current = await self.files.in_document(document_id, file_id)
                if current is not None:
                    await self.soft_delete(current)

            await retry_stale(attempt)
            count += 1
        return count

    async def drop_content(self, file_id: str) -> None:
        await self.blobs.delete(file_id)

    async def sweep_idle_uploads(self) -> int:
        """Remove what uploads left behind when their process died or their client went quiet
        for longer than the idle limit; returns how many were removed."""
        removed = 0
        for upload in await self.blobs.idle_uploads():
            if not await self.blobs.take_idle_upload(upload):
                continue
            if await self.files.recorded(upload["_id"]):
                continue  # stored in full; only the end of its upload was not noted
            await self.blobs.delete(upload["_id"])
            removed += 1
        if removed:
            logger.info("removed the content of %d abandoned uploads", removed)
        return removed

    async def zip_entries(self, *, user_id: str, document_id: str, file_id: str) -> ZipListingRead:
        await self.access.resolve(document_id, user_id)
        doc = await self._file(document_id, file_id)
        key = FileKey.from_document(doc["encryption"])
        size = int(doc["size"])

        async def read(start: int, end: int) -> bytes:
            return b"".join([part async for part in self.blobs.read(doc["_id"], key, size, start, end)])

        listing = await list_zip(read, size, self.zip_limits)
        return ZipListingRead(
            file_id=doc["_id"], total_size=listing.total_size, total_compressed_size=listing.total_compressed_size,
            entries=listing.entries,
        )
