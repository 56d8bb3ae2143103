"""What the documents domain publishes."""

from __future__ import annotations

from typing import Any

from docflow_shared.events.catalogue import DocumentCreated, DocumentDeleted, DocumentUpdated


def created(doc: dict[str, Any]) -> DocumentCreated:
    return DocumentCreated(document_id=doc["_id"], owner_id=doc["owner_id"], title=doc["title"], status=doc["status"])


def updated(doc: dict[str, Any]) -> DocumentUpdated:
    return DocumentUpdated(document_id=doc["_id"], owner_id=doc["owner_id"], title=doc["title"],
                           status=doc["status"], version=int(doc.get("version", 1)))


def deleted(doc: dict[str, Any]) -> DocumentDeleted:
    return DocumentDeleted(document_id=doc["_id"], owner_id=doc["owner_id"])
