"""Dependencies every router of the documents service shares."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Query, Request

from docflow_documents.context import DocumentsContext


def get_context(request: Request) -> DocumentsContext:
    return cast(DocumentsContext, request.app.state.context)


Ctx = Annotated[DocumentsContext, Depends(get_context)]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")]
