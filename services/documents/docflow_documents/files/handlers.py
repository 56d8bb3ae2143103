"""Consumes this service's own ``document.file_removed`` (the encrypted content goes too) and
signing's ``signature.file_digests_requested`` (the Streebog digests of a stored file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_shared.bus import Handler
from docflow_shared.events import Event
from docflow_shared.events.catalogue import DocumentFileRemoved, SignatureFileDigestsRequested

if TYPE_CHECKING:
    from docflow_documents.context import DocumentsContext


def subscriptions(ctx: DocumentsContext) -> dict[str, Handler]:
    async def removed(event: Event) -> None:
        if event.producer != "documents":
            return
        await ctx.files.drop_content(event.payload(DocumentFileRemoved).file_id)

    async def digests_requested(event: Event) -> None:
        await ctx.files.publish_digests(event.payload(SignatureFileDigestsRequested).file_id)

    return {DocumentFileRemoved.TYPE: removed, SignatureFileDigestsRequested.TYPE: digests_requested}
