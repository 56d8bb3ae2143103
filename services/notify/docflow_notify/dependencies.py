"""Dependencies every router of the notify service shares."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Query
from starlette.requests import HTTPConnection

from docflow_notify.context import NotifyContext


def get_context(connection: HTTPConnection) -> NotifyContext:
    """The context, for HTTP requests and WebSockets alike."""
    return cast(NotifyContext, connection.app.state.context)


Ctx = Annotated[NotifyContext, Depends(get_context)]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=512)]
