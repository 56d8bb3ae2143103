"""Comments in and out."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from docflow_documents.stored import CreatedAndUpdated
from docflow_shared.stored import OptionalText, Text

Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body


class CommentUpdate(CommentCreate):
    pass


class CommentRead(CreatedAndUpdated):
    document_id: str
    author_id: OptionalText = None  # None once the author's account is erased
    author_name: Text = ""
    body: str
