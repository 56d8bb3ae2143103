"""Documents in and out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from docflow_shared.mongo import stored_datetime

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50,
                                        pattern=r"^[^|\x00-\x1f]+$")]
Content = Annotated[str, StringConstraints(max_length=1_000_000)]
Description = Annotated[str, StringConstraints(max_length=5_000)]


class DocumentStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"
    signed = "signed"
    archived = "archived"


class DocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description = ""
    content: Content = ""
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class DocumentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    content: Content | None = None
    tags: list[Tag] | None = Field(None, max_length=50)
    status: DocumentStatus | None = None


class DocumentRead(BaseModel):
    id: str
    owner_id: str
    title: str
    description: str
    content: str
    status: DocumentStatus
    tags: list[str]
    version: int
    permission: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any], permission: str) -> DocumentRead:
        return cls(
            id=doc["_id"], owner_id=doc["owner_id"], title=doc["title"], description=doc.get("description", ""),
            content=doc.get("content", ""), status=doc["status"], tags=list(doc.get("tags") or []),
            version=int(doc.get("version", 1)), permission=permission,
            created_at=stored_datetime(doc["created_at"]),  # type: ignore[arg-type]
            updated_at=stored_datetime(doc.get("updated_at") or doc["created_at"]),  # type: ignore[arg-type]
        )


class DocumentScope(StrEnum):
    owned = "owned"
    shared = "shared"
    all = "all"
