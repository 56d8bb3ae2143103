"""Dependencies every router of the auth service shares."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Query, Request

from docflow_auth.context import AuthContext


def get_context(request: Request) -> AuthContext:
    return cast(AuthContext, request.app.state.context)


def client_ip(request: Request) -> str | None:
    # The client address after the trusted-proxy middleware: X-Forwarded-For counts only from the gateway.
    return request.client.host[:64] if request.client else None


Ctx = Annotated[AuthContext, Depends(get_context)]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=500)]
