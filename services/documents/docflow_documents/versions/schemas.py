"""Versions out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from docflow_shared.mongo import stored_datetime


class VersionRead(BaseModel):
    number: int
    document_id: str
    title: str
    description: str
    content: str
    sha256: str
    created_at: datetime
    replaced_at: datetime
    replaced_by: str

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> VersionRead:
        return cls(
            number=int(doc["number"]), document_id=doc["document_id"], title=doc["title"],
            description=doc.get("description", ""), content=doc.get("content", ""), sha256=doc["sha256"],
            created_at=stored_datetime(doc["created_at"]),  # type: ignore[arg-type]
            replaced_at=stored_datetime(doc["replaced_at"]),  # type: ignore[arg-type]
            replaced_by=doc.get("replaced_by", ""),
        )
