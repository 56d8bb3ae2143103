"""Dependencies every router of the routes service shares."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Query, Request

from docflow_routes.context import RoutesContext
from docflow_routes.requests.actions import Acting
from docflow_shared.events.catalogue import RouteActionOrigin
from docflow_shared.web import CurrentUser


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


def acting(document_id: str, request_id: str, user: CurrentUser, origin: Origin) -> Acting:
    """The caller acting on their turn in a request (approve, decline, delegate)."""
    return Acting(user_id=user.user_id, document_id=document_id, request_id=request_id, origin=origin)


ActingParticipant = Annotated[Acting, Depends(acting)]
