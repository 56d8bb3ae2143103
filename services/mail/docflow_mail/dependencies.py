"""Dependencies every router of the mail service shares."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Query, Request

from docflow_mail.context import MailContext


def get_context(request: Request) -> MailContext:
    return cast(MailContext, request.app.state.context)


Ctx = Annotated[MailContext, Depends(get_context)]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=512)]
