"""Who may see or sign a document, from the projection (owner, share grants)."""

from __future__ import annotations

from dataclasses import dataclass

from docflow_shared.errors import NotFound
from docflow_shared.mongo import Document
from docflow_shared.projection.repository import ProjectionRepository


@dataclass(frozen=True, slots=True)
class DocumentAccess:
    """The caller's standing on one document."""

    document: Document
    user_id: str
    permission: str | None

    @property
    def document_id(self) -> str:
        return str(self.document["_id"])

    @property
    def owner_id(self) -> str:
        return str(self.document["owner_id"])

    @property
    def title(self) -> str:
        return str(self.document.get("title") or "")

    @property
    def is_owner(self) -> bool:
        return self.owner_id == self.user_id

    @property
    def can_sign(self) -> bool:
        return self.is_owner or self.permission == "sign"

    @property
    def can_see(self) -> bool:
        return self.is_owner or self.permission is not None


async def document_access(projection: ProjectionRepository, document_id: str, user_id: str) -> DocumentAccess:
    """The caller's access to a known document; 404 when the document is unknown."""
    document = await projection.document(document_id)
    if document is None:
        raise NotFound("Document not found.")
    permission = None if document["owner_id"] == user_id else await projection.permission(document_id, user_id)
    return DocumentAccess(document, user_id, permission)
