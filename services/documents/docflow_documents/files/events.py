"""What the files domain publishes."""

from __future__ import annotations

from typing import Any

from docflow_shared.events.catalogue import DocumentFileAdded, DocumentFileDigested, DocumentFileRemoved


def added(doc: dict[str, Any]) -> DocumentFileAdded:
    return DocumentFileAdded(document_id=doc["document_id"], file_id=doc["_id"], owner_id=doc["owner_id"],
                             name=doc["name"], size=int(doc["size"]), sha256=doc["sha256"],
                             content_type=doc["content_type"])


def removed(doc: dict[str, Any]) -> DocumentFileRemoved:
    return DocumentFileRemoved(document_id=doc["document_id"], file_id=doc["_id"], owner_id=doc["owner_id"])


def digested(doc: dict[str, Any]) -> DocumentFileDigested:
    return DocumentFileDigested(document_id=doc["document_id"], file_id=doc["_id"], sha256=doc["sha256"],
                                streebog256=doc["streebog256"], streebog512=doc["streebog512"])
