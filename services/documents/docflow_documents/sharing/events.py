"""What sharing publishes."""

from __future__ import annotations

from docflow_shared.events import Person
from docflow_shared.events.catalogue import DocumentShared, DocumentShareRevoked


def shared(*, document_id: str, title: str, owner: Person, recipient: Person, permission: str,
           message: str) -> DocumentShared:
    return DocumentShared(document_id=document_id, title=title, owner=owner, recipient=recipient,
                          permission=permission, message=message)  # type: ignore[arg-type]


def revoked(*, document_id: str, owner_id: str, recipient_id: str) -> DocumentShareRevoked:
    return DocumentShareRevoked(document_id=document_id, owner_id=owner_id, recipient_id=recipient_id)
