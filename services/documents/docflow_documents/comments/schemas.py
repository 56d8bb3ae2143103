"""Comments in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from docflow_shared.mongo import stored_datetime

Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body


class CommentUpdate(CommentCreate):
    pass


class CommentRead(BaseModel):
    id: str
    document_id: str
    author_id: str | None
    author_name: str
    body: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> CommentRead:
        return cls(
            id=doc["_id"], document_id=doc["document_id"], author_id=doc.get("author_id"),
            author_name=doc.get("author_name") or "", body=doc["body"],
            created_at=stored_datetime(doc["created_at"]),  # type: ignore[arg-type]
            updated_at=stored_datetime(doc.get("updated_at") or doc["created_at"]),  # type: ignore[arg-type]
        )
