"""Consumes ``user.*``: keeps the projection and erases a deleted user's data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_shared.bus import Handler
from docflow_shared.events import Event
from docflow_shared.events.catalogue import UserDeleted, UserEmailVerified, UserRegistered, UserUpdated
from docflow_shared.mongo import event_clock

if TYPE_CHECKING:
    from docflow_documents.context import DocumentsContext


def event_us(event: Event) -> int:
    """The event's newer-wins clock (a counter, not a time: ``docflow_shared.mongo.event_clock``)."""
    return event_clock(event.occurred_at)


def subscriptions(ctx: DocumentsContext) -> dict[str, Handler]:
    def once(apply: Handler) -> Handler:
        """Apply each event once. The record in ``processed_events`` also shows that an event was
        handled when, being older than what is stored, it changed nothing."""
        async def handle(event: Event) -> None:
            await ctx.processed.run_once(event, lambda: apply(event))

        return handle

    async def registered(event: Event) -> None:
        await ctx.users.remember(event.payload(UserRegistered), event_us(event))

    async def updated(event: Event) -> None:
        payload: UserUpdated = event.payload(UserUpdated)
        await ctx.users.remember(payload, event_us(event))
        await ctx.sharing.deliver_waiting_for(payload.user_id)

    async def email_verified(event: Event) -> None:
        payload: UserEmailVerified = event.payload(UserEmailVerified)
        await ctx.users.verified(payload, event_us(event))
        await ctx.sharing.deliver_waiting_for(payload.user_id)

    async def deleted(event: Event) -> None:
        await ctx.erasure.erase(event.payload(UserDeleted).user_id, event_us(event))

    return {UserRegistered.TYPE: once(registered), UserUpdated.TYPE: once(updated),
            UserEmailVerified.TYPE: once(email_verified), UserDeleted.TYPE: once(deleted)}
