"""Consumer of routes' ``route.access_changed``: who may see and sign a document under a request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_shared.bus import Handler
from docflow_shared.events import Event, catalogue

if TYPE_CHECKING:
    from docflow_signing.context import SigningContext


def subscriptions(ctx: SigningContext) -> dict[str, Handler]:
    """The snapshot is applied by version and sessions are replaced whole, so a redelivery
    changes nothing."""
    routes = ctx.routes

    async def on_access_changed(event: Event) -> None:
        await routes.access_changed(event.payload(catalogue.RouteAccessChanged), event.occurred_at)

    async def on_granted(event: Event) -> None:
        await routes.external_granted(event.payload(catalogue.RouteExternalAccessGranted), event.occurred_at)

    async def on_revoked(event: Event) -> None:
        await routes.external_revoked(event.payload(catalogue.RouteExternalAccessRevoked), event.occurred_at)

    return {catalogue.RouteAccessChanged.TYPE: on_access_changed,
            catalogue.RouteExternalAccessGranted.TYPE: on_granted,
            catalogue.RouteExternalAccessRevoked.TYPE: on_revoked}
