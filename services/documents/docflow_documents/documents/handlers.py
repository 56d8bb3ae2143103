"""Consumes signing's outcome (``document.signed``, ``document.completed``) and this service's own
``document.deleted``, which removes what belonged to the document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_documents.identifiers import stamp
from docflow_shared.bus import Handler
from docflow_shared.events import Event
from docflow_shared.events.catalogue import DocumentCompleted, DocumentDeleted, DocumentSigned

if TYPE_CHECKING:
    from docflow_documents.context import DocumentsContext

SERVICE = "documents"


def subscriptions(ctx: DocumentsContext) -> dict[str, Handler]:
    async def signed(event: Event) -> None:
        payload: DocumentSigned = event.payload(DocumentSigned)
        now, _ = stamp()
        await ctx.signature_repository.record({
            "_id": payload.signature_id, "document_id": payload.document_id, "file_id": payload.file_id,
            "signer_id": payload.signer.user_id, "request_id": payload.request_id,
            "signed_at": payload.signed_at.isoformat(), "recorded_at": now,
        })

    async def completed(event: Event) -> None:
        payload: DocumentCompleted = event.payload(DocumentCompleted)

        async def mark() -> None:
            await ctx.documents.mark_signed(payload.document_id)

        await ctx.processed.run_once(event, mark)

    async def deleted(event: Event) -> None:
        if event.producer != SERVICE:
            return
        await remove_document_data(ctx, event.payload(DocumentDeleted).document_id)

    return {DocumentSigned.TYPE: signed, DocumentCompleted.TYPE: completed, DocumentDeleted.TYPE: deleted}


async def remove_document_data(ctx: DocumentsContext, document_id: str) -> None:
    """Everything hanging off a deleted document; each step can run again safely."""
    await ctx.files.delete_all_of_document(document_id)
    await ctx.share_repository.delete_for_documents([document_id])
    await ctx.inbox_repository.delete_for_documents([document_id])
    await ctx.comment_repository.delete_for_documents([document_id])
    await ctx.version_repository.delete_for_document(document_id)
    await ctx.signature_repository.delete_for_documents([document_id])
