"""Consumes signing's outcome (``document.signed``, ``document.completed``) and this service's own
``document.deleted``, which removes what belonged to the document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_shared.bus import Handler
from docflow_shared.events import Event
from docflow_shared.events.catalogue import (
    DocumentCompleted,
    DocumentDeleted,
    DocumentSigned,
    SignatureRequestExpired,
)

if TYPE_CHECKING:
    from docflow_documents.context import DocumentsContext

SERVICE = "documents"


def subscriptions(ctx: DocumentsContext) -> dict[str, Handler]:
    async def signed(event: Event) -> None:
        await ctx.documents.record_signature(event.payload(DocumentSigned))

    async def completed(event: Event) -> None:
        payload: DocumentCompleted = event.payload(DocumentCompleted)
        await ctx.documents.signature_request_closed(payload.request_id, payload.document_id)

        async def mark() -> None:
            await ctx.documents.mark_signed(payload.document_id)

        await ctx.processed.run_once(event, mark)

    async def expired(event: Event) -> None:
        payload: SignatureRequestExpired = event.payload(SignatureRequestExpired)
        await ctx.documents.signature_request_closed(payload.request_id, payload.document_id)

    async def deleted(event: Event) -> None:
        if event.producer != SERVICE:
            return
        await ctx.removal.remove_data_of(event.payload(DocumentDeleted).document_id)

    return {DocumentSigned.TYPE: signed, DocumentCompleted.TYPE: completed, DocumentDeleted.TYPE: deleted,
            SignatureRequestExpired.TYPE: expired}

