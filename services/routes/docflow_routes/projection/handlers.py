"""Consumers of user.* and document.* events: each runs once per event id and calls the projection service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from docflow_shared.bus import Handler
from docflow_shared.events import Event, EventPayload, catalogue
from docflow_shared.mongo import ProcessedEvents

if TYPE_CHECKING:
    from docflow_routes.context import RoutesContext

P = TypeVar("P", bound=EventPayload)


def subscriptions(ctx: RoutesContext) -> dict[str, Handler]:
    projection, processed = ctx.projection, ctx.processed
    return dict([
        _apply(processed, catalogue.UserRegistered, projection.user_registered),
        _apply(processed, catalogue.UserUpdated, projection.user_updated),
        _apply(processed, catalogue.UserEmailVerified, projection.email_verified),
        _apply(processed, catalogue.UserDeleted, projection.user_deleted),
        _apply(processed, catalogue.DocumentCreated, projection.document_saved),
        _apply(processed, catalogue.DocumentUpdated, projection.document_saved),
        _apply(processed, catalogue.DocumentDeleted, projection.document_deleted),
        _apply(processed, catalogue.DocumentFileAdded, projection.file_added),
        _apply(processed, catalogue.DocumentFileRemoved, projection.file_removed),
        _apply(processed, catalogue.DocumentShared, projection.granted),
        _apply(processed, catalogue.DocumentShareRevoked, projection.revoked),
    ])


def _apply(processed: ProcessedEvents, payload: type[P],
           apply: Callable[[P, datetime], Awaitable[None]]) -> tuple[str, Handler]:
    """The handler of ``payload``'s event type: it gives ``apply`` the typed payload and when it
    happened, once per event id (a redelivered event is acknowledged without running again)."""
    async def handle(event: Event) -> None:
        await processed.run_once(event, lambda: apply(event.payload(payload), event.occurred_at))

    return payload.TYPE, handle
