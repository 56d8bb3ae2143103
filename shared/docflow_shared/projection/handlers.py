"""Consumers of user.* and document.* events: each runs once per event id and calls the
projection service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from docflow_shared.bus import Handler
from docflow_shared.events import Event, EventPayload, catalogue
from docflow_shared.mongo import ProcessedEvents
from docflow_shared.projection.service import ProjectionService

P = TypeVar("P", bound=EventPayload)


def subscriptions(processed: ProcessedEvents, projection: ProjectionService[Any]) -> dict[str, Handler]:
    """The consumers every projection has; a service adds its own with ``apply_once``."""
    return dict([
        apply_once(processed, catalogue.UserRegistered, projection.user_registered),
        apply_once(processed, catalogue.UserUpdated, projection.user_updated),
        apply_once(processed, catalogue.UserEmailVerified, projection.email_verified),
        apply_once(processed, catalogue.UserDeleted, projection.user_deleted),
        apply_once(processed, catalogue.DocumentCreated, projection.document_saved),
        apply_once(processed, catalogue.DocumentUpdated, projection.document_saved),
        apply_once(processed, catalogue.DocumentDeleted, projection.document_deleted),
        apply_once(processed, catalogue.DocumentFileAdded, projection.file_added),
        apply_once(processed, catalogue.DocumentFileRemoved, projection.file_removed),
        apply_once(processed, catalogue.DocumentShared, projection.granted),
        apply_once(processed, catalogue.DocumentShareRevoked, projection.revoked),
    ])


def apply_once(processed: ProcessedEvents, payload: type[P],
               apply: Callable[[P, datetime], Awaitable[None]]) -> tuple[str, Handler]:
    """The handler of ``payload``'s event type: it gives ``apply`` the typed payload and when it
    happened, once per event id (a redelivered event is acknowledged without running again)."""
    async def handle(event: Event) -> None:
        await processed.run_once(event, lambda: apply(event.payload(payload), event.occurred_at))

    return payload.TYPE, handle
