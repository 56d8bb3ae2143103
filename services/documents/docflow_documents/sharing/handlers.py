"""Consumes signature requests: each signer gets an inbox item, withdrawn when cancelled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_shared.bus import Handler
from docflow_shared.events import Event
from docflow_shared.events.catalogue import SignatureRequestCancelled, SignatureRequested

if TYPE_CHECKING:
    from docflow_documents.context import DocumentsContext


def subscriptions(ctx: DocumentsContext) -> dict[str, Handler]:
    async def requested(event: Event) -> None:
        p: SignatureRequested = event.payload(SignatureRequested)
        await ctx.documents.signature_request_opened(p.request_id, p.document_id)
        await ctx.sharing.signature_requested(
            request_id=p.request_id, document_id=p.document_id, title=p.title, owner=p.owner, signer=p.signer,
            message=p.message, reminder=p.reminder,
        )

    async def cancelled(event: Event) -> None:
        p: SignatureRequestCancelled = event.payload(SignatureRequestCancelled)
        await ctx.documents.signature_request_closed(p.request_id, p.document_id)
        await ctx.sharing.signature_cancelled(request_id=p.request_id, signer_ids=p.signer_ids)

    return {SignatureRequested.TYPE: requested, SignatureRequestCancelled.TYPE: cancelled}
