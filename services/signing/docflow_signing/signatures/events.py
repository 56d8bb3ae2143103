"""Events a stored signature announces."""

from __future__ import annotations

from datetime import datetime

from docflow_shared.events import Person
from docflow_shared.events.catalogue import DocumentSigned


def signed(*, document_id: str, file_id: str, signature_id: str, title: str, signer: Person, owner: Person,
           at: datetime, request_id: str | None) -> DocumentSigned:
    return DocumentSigned(document_id=document_id, file_id=file_id, signature_id=signature_id, title=title,
                          signer=signer, owner=owner, signed_at=at, request_id=request_id)
