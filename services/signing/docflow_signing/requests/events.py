"""Events about signature requests (signature.*, document.completed)."""

from __future__ import annotations

from datetime import datetime

from docflow_shared.events import Person
from docflow_shared.events.catalogue import (
    DocumentCompleted,
    SignatureRequestCancelled,
    SignatureRequested,
    SignatureRequestExpired,
)
from docflow_shared.mongo import Document


def requested(request: Document, *, title: str, owner: Person, signer: Person,
              reminder: bool = False) -> SignatureRequested:
    return SignatureRequested(
        request_id=request["_id"], document_id=request["document_id"], title=title, owner=owner,
        signer=signer, message=request.get("message") or "", expires_at=request.get("expires_at"),
        reminder=reminder,
    )


def expired(request: Document, *, title: str, owner: Person, pending: list[Person]) -> SignatureRequestExpired:
    return SignatureRequestExpired(request_id=request["_id"], document_id=request["document_id"], title=title,
                                   owner=owner, pending_signers=pending)


def cancelled(request: Document, signer_ids: list[str]) -> SignatureRequestCancelled:
    return SignatureRequestCancelled(request_id=request["_id"], document_id=request["document_id"],
                                     owner_id=request["owner_id"], signer_ids=signer_ids)


def completed(request: Document, *, title: str, owner: Person, participants: list[Person],
              at: datetime) -> DocumentCompleted:
    return DocumentCompleted(document_id=request["document_id"], request_id=request["_id"], title=title,
                             owner=owner, participants=participants, completed_at=at)
