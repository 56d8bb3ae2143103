"""What the evidence trail consumes: the projection's ``document.*`` events (recorded, then handed
on to the projection's own handler), the reads of a document, and ``route.*`` by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from docflow_shared.bus import Handler
from docflow_shared.events import Event
from docflow_signing.evidence.trail import PROJECTED, READS, ROUTE_EVENTS

if TYPE_CHECKING:
    from docflow_signing.context import SigningContext


def subscriptions(ctx: SigningContext, alongside: Mapping[str, Handler]) -> dict[str, Handler]:
    """``alongside`` with the trail recorded before each of its ``PROJECTED`` handlers, plus the
    trail's own event types. Recording is idempotent on the event id, so a retried event (the
    projection failing after the record) records nothing twice."""

    async def record(event: Event) -> None:
        await ctx.evidence.record(event)

    def recorded_then(handler: Handler) -> Handler:
        async def handle(event: Event) -> None:
            await record(event)
            await handler(event)

        return handle

    handlers = dict(alongside)
    for event_type in PROJECTED:
        if event_type in handlers:
            handlers[event_type] = recorded_then(handlers[event_type])
    for event_type in (*READS, *ROUTE_EVENTS):
        handlers[event_type] = record
    return handlers
