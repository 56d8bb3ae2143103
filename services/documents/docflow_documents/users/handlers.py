"""Consumes ``user.*``: keeps the projection and erases a deleted user's data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_shared.bus import Handler
from docflow_shared.events import Event
from docflow_shared.events.catalogue import UserDeleted, UserRegistered, UserUpdated

if TYPE_CHECKING:
    from docflow_documents.context import DocumentsContext


def event_us(event: Event) -> int:
    return int(event.occurred_at.timestamp() * 1_000_000)


def subscriptions(ctx: DocumentsContext) -> dict[str, Handler]:
    async def registered(event: Event) -> None:
        await ctx.users.remember(event.payload(UserRegistered), event_us(event))

    async def updated(event: Event) -> None:
        await ctx.users.remember(event.payload(UserUpdated), event_us(event))

    async def deleted(event: Event) -> None:
        payload: UserDeleted = event.payload(UserDeleted)

        async def erase() -> None:
            await erase_user(ctx, payload.user_id, event_us(event))

        await ctx.processed.run_once(event, erase)

    return {UserRegistered.TYPE: registered, UserUpdated.TYPE: updated, UserDeleted.TYPE: deleted}


async def erase_user(ctx: DocumentsContext, user_id: str, at_us: int) -> None:
    """Remove a user's documents (files follow through ``document.deleted``), shares, inbox and
    contacts; keep their comments on other people's documents without their name. Repeatable."""
    await ctx.users.forget(user_id, at_us)
    owned = await ctx.document_repository.owned_ids(user_id)
    await ctx.share_repository.delete_for_documents(owned)
    await ctx.inbox_repository.delete_for_documents(owned)
    await ctx.comment_repository.delete_for_documents(owned)
    await ctx.documents.delete_all_of(user_id)
    await ctx.share_repository.delete_involving(user_id)
    await ctx.inbox_repository.delete_for_user(user_id)
    await ctx.contact_repository.delete_involving(user_id)
    await ctx.comment_repository.anonymise_author(user_id)
