"""Dependencies every router of the audit service shares."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Query, Request

from docflow_audit.context import AuditContext


def get_context(request: Request) -> AuditContext:
    return cast(AuditContext, request.app.state.context)


Ctx = Annotated[AuditContext, Depends(get_context)]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=512)]
