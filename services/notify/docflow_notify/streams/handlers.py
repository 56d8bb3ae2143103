"""What the streams consume: every event type a user may be told about, and the revocation
events, on this replica's own exclusive, auto-deleted fan-out queue (every replica gets every
event, so a user's stream on any replica receives it)."""

from __future__ import annotations

from docflow_notify.context import NotifyContext
from docflow_notify.streams.concerns import STREAM_TYPES
from docflow_shared.bus import Handler
from docflow_shared.revocations import REVOCATION_EVENTS


def broadcasts(ctx: NotifyContext) -> dict[str, Handler]:
    """Event types for ``EventBus.subscribe_broadcast``. The revocation types replace the
    runtime's own registration with one that also closes the streams they end."""
    handlers: dict[str, Handler] = {event_type: ctx.streams.publish for event_type in STREAM_TYPES}
    handlers.update({event_type: ctx.streams.end_sessions for event_type in REVOCATION_EVENTS})
    return handlers
