"""Consumes routes' sessions for people outside DocFlow (replaced whole: a redelivery changes nothing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_shared.bus import Handler
from docflow_shared.events import Event
from docflow_shared.events.catalogue import RouteExternalAccessGranted, RouteExternalAccessRevoked

if TYPE_CHECKING:
    from docflow_documents.context import DocumentsContext


def subscriptions(ctx: DocumentsContext) -> dict[str, Handler]:
    async def granted(event: Event) -> None:
        await ctx.outsiders.granted(event.payload(RouteExternalAccessGranted))

    async def revoked(event: Event) -> None:
        await ctx.outsiders.revoked(event.payload(RouteExternalAccessRevoked))

    return {RouteExternalAccessGranted.TYPE: granted, RouteExternalAccessRevoked.TYPE: revoked}
