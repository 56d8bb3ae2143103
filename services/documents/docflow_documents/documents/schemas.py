"""Documents in and out."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from docflow_documents.stored import CreatedAndUpdated
from docflow_shared.stored import Text

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


class DocumentRead(CreatedAndUpdated):
    owner_id: str
    title: str
    description: Text = ""
    content: Text = ""
    status: DocumentStatus
    tags: Annotated[list[str], BeforeValidator(lambda stored: stored or [])] = Field(default_factory=list)
    version: int = 1
    permission: str

    @classmethod
    def shown_as(cls, doc: Mapping[str, Any], permission: str) -> DocumentRead:
        """The stored document as the caller sees it, with the caller's ``permission``."""
        return cls.model_validate({**doc, "permission": permission})


class DocumentScope(StrEnum):
    owned = "owned"
    shared = "shared"
    all = "all"
