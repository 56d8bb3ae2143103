"""What the trail consumes: every event that is an action on a document (``facts.READERS``),
``route.*`` included by name whether or not anyone publishes it yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_audit.trail.facts import READERS
from docflow_shared.bus import Handler
from docflow_shared.events import Event

if TYPE_CHECKING:
    from docflow_audit.context import AuditContext


def subscriptions(ctx: AuditContext) -> dict[str, Handler]:
    async def record(event: Event) -> None:
        # idempotent on the event id by the records' unique event_id (a bad payload raises:
        # retries, then the DLQ)
        await ctx.trail.record(event)

    return dict.fromkeys(READERS, record)
