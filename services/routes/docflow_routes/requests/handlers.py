"""Consumers of signing's ``document.signed``: a signature made under a request moves the route on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_shared.bus import Handler
from docflow_shared.events import Event, catalogue

if TYPE_CHECKING:
    from docflow_routes.context import RoutesContext


def subscriptions(ctx: RoutesContext) -> dict[str, Handler]:
    lifecycle, processed = ctx.request_lifecycle, ctx.processed

    async def on_signed(event: Event) -> None:
        signed = event.payload(catalogue.DocumentSigned)
        await processed.run_once(event, lambda: lifecycle.signature_made(signed))

    return {catalogue.DocumentSigned.TYPE: on_signed}
