"""Consumes this service's own ``document.file_removed``: the encrypted content goes too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_shared.bus import Handler
from docflow_shared.events import Event
from docflow_shared.events.catalogue import DocumentFileRemoved

if TYPE_CHECKING:
    from docflow_documents.context import DocumentsContext


def subscriptions(ctx: DocumentsContext) -> dict[str, Handler]:
    async def removed(event: Event) -> None:
        if event.producer != "documents":
            return
        await ctx.files.drop_content(event.payload(DocumentFileRemoved).file_id)

    return {DocumentFileRemoved.TYPE: removed}
