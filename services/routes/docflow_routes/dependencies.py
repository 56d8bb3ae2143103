"""Dependencies every router of the routes service shares."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Query, Request

from docflow_routes.context import RoutesContext
from docflow_shared.events.catalogue import RouteActionOrigin


def get_context(request: Request) -> RoutesContext:
    return cast(RoutesContext, request.app.state.context)


Ctx = Annotated[RoutesContext, Depends(get_context)]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


def action_origin(request: Request) -> RouteActionOrigin:
    """Where an action came from: the client (forwarded headers count only from trusted
    proxies), its user agent and the request id the gateway gave the request."""
    return RouteActionOrigin(ip=request.client.host if request.client else "",
                             user_agent=request.headers.get("user-agent", "")[:512],
                             request_id=request.headers.get("x-request-id", "")[:128])


Origin = Annotated[RouteActionOrigin, Depends(action_origin)]
