"""Documents: create, read, list, edit with automatic versions, status rules, delete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docflow_documents.activity.service import ActivityLog
from docflow_documents.documents import events
from docflow_documents.documents.access import OWNER, AccessPolicy
from docflow_documents.documents.repository import DocumentRepository, SignatureRecordRepository
from docflow_documents.documents.schemas import (
    DocumentCreate,
    DocumentRead,
    DocumentScope,
    DocumentStatus,
    DocumentUpdate,
)
from docflow_documents.ids import ID_LENGTH, LISTING_ORDER, sort_key, stamp
from docflow_documents.sharing.repository import ShareRepository
from docflow_documents.versions.repository import VersionRepository
from docflow_documents.versions.service import VERSIONED_FIELDS, snapshot_of
from docflow_shared.errors import Conflict
from docflow_shared.events import Client, Event, EventPayload
from docflow_shared.events.catalogue import DocumentSigned
from docflow_shared.ids import new_id
from docflow_shared.outbox import Whole, retry_stale
from docflow_shared.pagination import Page

MakeEvent = Callable[[EventPayload], Event]

# Status changes a client may ask for; ``signed`` is reached only through signing's events.
CLIENT_TRANSITIONS: dict[str, frozenset[str]] = {
    DocumentStatus.draft: frozenset({DocumentStatus.in_review, DocumentStatus.archived}),
    DocumentStatus.in_review: frozenset({DocumentStatus.draft, DocumentStatus.archived}),
    DocumentStatus.signed: frozenset({DocumentStatus.archived}),
    DocumentStatus.archived: frozenset(),
}
EDITABLE = frozenset({DocumentStatus.draft, DocumentStatus.in_review})


def search_text(title: str, description: str, content: str) -> str:
    return f"{title}\n{description}\n{content}".casefold()


def tags_text(tags: list[str]) -> str:
    """``|a|b|``: tags as one string, matched by a regex on any MongoDB-compatible server."""
    return "|" + "|".join(tags) + "|" if tags else ""


@dataclass
class DocumentService:
    documents: DocumentRepository
    versions: VersionRepository
    shares: ShareRepository
    access: AccessPolicy
    event: MakeEvent
    shared_scope_limit: int
    signatures: SignatureRecordRepository
    activity: ActivityLog

    async def create(self, *, owner_id: str, data: DocumentCreate) -> DocumentRead:
        created_at, created_us = stamp()
        tags = list(dict.fromkeys(data.tags))
        document_id = new_id(length=ID_LENGTH)
        doc: dict[str, Any] = {
            "_id": document_id, "owner_id": owner_id, "title": data.title, "description": data.description,
            "content": data.content, "status": DocumentStatus.draft.value, "tags": tags,
            "tags_text": tags_text(tags), "search_text": search_text(data.title, data.description, data.content),
            "version": 1, "created_at": created_at, "created_us": created_us,
            "sort_key": sort_key(created_us, document_id), "updated_at": created_at,
            "deleted_at": None,
        }
        await self.documents.add(doc, [self.event(events.created(doc))])
        return DocumentRead.shown_as(doc, OWNER)

    async def get(self, *, user_id: str, document_id: str, client: Client) -> DocumentRead:
        access = await self.access.resolve(document_id, user_id)
        await self.activity.viewed(access.document, user_id, client)
        return DocumentRead.shown_as(access.document, access.permission)

    async def list(
        self, *, user_id: str, scope: DocumentScope, status: DocumentStatus | None, tag: str | None,
        query: str | None, cursor: str | None, limit: int,
    ) -> Page[DocumentRead]:
        shared: dict[str, str] = {}
        if scope != DocumentScope.owned:
            shared = await self.shares.permissions_of(user_id, self.shared_scope_limit)
        filters: dict[str, Any] = {
            "status": status.value if status else None, "tag": tag.strip().lower() if tag else None,
            "query": query.casefold() if query else None, "cursor": cursor, "limit": limit + 1,
        }
        docs: list[dict[str, Any]] = []
        if scope != DocumentScope.shared:
            docs += await self.documents.page(owner_id=user_id, **filters)
        if scope != DocumentScope.owned:
            docs += await self.documents.page(ids=list(shared), **filters)
        docs, next_cursor = LISTING_ORDER.page(sorted(docs, key=lambda d: str(d["sort_key"]), reverse=True), limit)
        items = [DocumentRead.shown_as(d, OWNER if d["owner_id"] == user_id else shared.get(d["_id"], "read"))
                 for d in docs]
        return Page[DocumentRead](items=items, next_cursor=next_cursor)

    async def update(self, *, user_id: str, document_id: str, data: DocumentUpdate) -> DocumentRead:
        async def attempt() -> dict[str, Any]:
            access = await self.access.resolve(document_id, user_id)
            access.require_owner()
            return await self._apply(access.document, data, user_id)

        return DocumentRead.shown_as(await retry_stale(attempt), OWNER)

    async def _apply(self, doc: Whole, data: DocumentUpdate, user_id: str) -> Whole:
        status = doc["status"]
        changes: dict[str, Any] = {}
        text = {f: getattr(data, f) for f in VERSIONED_FIELDS if getattr(data, f) is not None}
        text = {f: v for f, v in text.items() if v != doc.get(f, "")}
        if text and status not in EDITABLE:
            raise Conflict(f"A {status} document cannot be edited.", slug="document-not-editable")
        if data.tags is not None:
            tags = list(dict.fromkeys(data.tags))
            if tags != list(doc.get("tags") or []):
                if status not in EDITABLE:
                    raise Conflict(f"A {status} document cannot be edited.", slug="document-not-editable")
                changes.update(tags=tags, tags_text=tags_text(tags))
        if data.status is not None and data.status != status:
            if data.status not in CLIENT_TRANSITIONS[status]:
                raise Conflict(f"A {status} document cannot become {data.status.value}.", slug="invalid-transition")
            changes["status"] = data.status.value
        if not text and not changes:
            return doc
        now, _ = stamp()
        if text:
            await self.versions.keep(snapshot_of(doc, replaced_at=now, replaced_by=user_id))
            merged = {f: text.get(f, doc.get(f, "")) for f in VERSIONED_FIELDS}
            changes.update(text, version=int(doc.get("version", 1)) + 1, search_text=search_text(**merged))
        changes["updated_at"] = now
        after = {**doc, **changes}
        return await self.documents.update(doc, changes, [self.event(events.updated(after))])

    async def delete(self, *, user_id: str, document_id: str) -> None:
        async def attempt() -> None:
            access = await self.access.resolve(document_id, user_id)
            access.require_owner()
            await self.soft_delete(access.document)

        await retry_stale(attempt)

    async def soft_delete(self, doc: Whole) -> None:
        """Hide the document now; the relay purges it once ``document.deleted`` is out."""
        now, _ = stamp()
        await self.documents.soft_delete(doc, [self.event(events.deleted(doc))], at=now)

    async def mark_signed(self, document_id: str) -> bool:
        """Signing completed the document: draft or in review becomes signed."""
        async def attempt() -> bool:
            doc = await self.documents.get(document_id)
            if doc is None or doc["status"] not in EDITABLE:
                return False
            now, _ = stamp()
            changes = {"status": DocumentStatus.signed.value, "updated_at": now}
            await self.documents.update(doc, changes, [self.event(events.updated({**doc, **changes}))])
            return True

        return await retry_stale(attempt)

    async def delete_all_of(self, owner_id: str) -> int:
        """Soft-delete every document of a user (each announces its own deletion)."""
        count = 0
        for document_id in await self.documents.owned_ids(owner_id):
            async def attempt(document_id: str = document_id) -> bool:
                doc = await self.documents.get(document_id)
                if doc is None:
                    return False
                await self.soft_delete(doc)
                return True

            count += int(await retry_stale(attempt))
        return count

    async def record_signature(self, signed: DocumentSigned) -> None:
        """Signing reported a signature: the file it covers can no longer be renamed or deleted."""
        now, _ = stamp()
        await self.signatures.record({
            "_id": signed.signature_id, "document_id": signed.document_id, "file_id": signed.file_id,
            "signer_id": signed.signer.user_id, "request_id": signed.request_id,
            "signed_at": signed.signed_at, "recorded_at": now,
        })

    async def signature_request_opened(self, request_id: str, document_id: str) -> None:
        """While a request is open no file may be added to the document."""
        await self.signatures.request_opened(request_id, document_id)

    async def signature_request_closed(self, request_id: str, document_id: str) -> None:
        """Completed, expired or cancelled: files may be added again."""
        await self.signatures.request_closed(request_id, document_id)
