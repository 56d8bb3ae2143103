"""Snapshots of a document's previous state, each with the SHA-256 of its canonical JSON."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from docflow_documents.documents.access import AccessPolicy
from docflow_documents.versions.repository import NEWEST_VERSION_FIRST, VersionRepository
from docflow_documents.versions.schemas import VersionRead
from docflow_shared.errors import NotFound
from docflow_shared.pagination import Page

VERSIONED_FIELDS = ("title", "description", "content")


def canonical_sha256(snapshot: dict[str, Any]) -> str:
    """SHA-256 of sorted-key, compact, UTF-8 JSON: the same state always hashes the same."""
    body = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def snapshot_of(doc: dict[str, Any], *, replaced_at: datetime, replaced_by: str) -> dict[str, Any]:
    number = int(doc.get("version", 1))
    state = {"document_id": doc["_id"], "number": number, **{f: doc.get(f, "") for f in VERSIONED_FIELDS}}
    return {
        "_id": f"{doc['_id']}:{number}", **state, "sha256": canonical_sha256(state),
        "created_at": doc.get("updated_at") or doc["created_at"], "replaced_at": replaced_at,
        "replaced_by": replaced_by,
    }


class VersionService:
    def __init__(self, versions: VersionRepository, access: AccessPolicy) -> None:
        self.versions = versions
        self.access = access

    async def list(self, *, user_id: str, document_id: str, cursor: str | None, limit: int) -> Page[VersionRead]:
        await self.access.resolve(document_id, user_id)
        docs, next_cursor = NEWEST_VERSION_FIRST.page(await self.versions.page(document_id, cursor, limit + 1), limit)
        return Page[VersionRead](items=[VersionRead.from_doc(d) for d in docs], next_cursor=next_cursor)

    async def get(self, *, user_id: str, document_id: str, number: str) -> VersionRead:
        await self.access.resolve(document_id, user_id)
        if not number.isdigit() or len(number) > 9:
            raise NotFound("No such version.")
        doc = await self.versions.get(document_id, int(number))
        if doc is None:
            raise NotFound("No such version.")
        return VersionRead.from_doc(doc)
