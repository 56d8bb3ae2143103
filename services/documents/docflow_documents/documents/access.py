"""Who may do what with a document: its owner, or a recipient through a share grant."""

from __future__ import annotations

from dataclasses import dataclass

from docflow_documents.documents.repository import DocumentRepository
from docflow_documents.ids import checked_id
from docflow_documents.sharing.repository import ShareRepository
from docflow_shared.errors import Forbidden, NotFound
from docflow_shared.outbox import Whole

OWNER = "owner"
COMMENTING = frozenset({OWNER, "comment", "sign"})


@dataclass(frozen=True)
class Access:
    document: Whole
    permission: str

    @property
    def is_owner(self) -> bool:
        return self.permission == OWNER

    def require_owner(self) -> None:
        if not self.is_owner:
            raise Forbidden("Only the document's owner may do this.")

    def require_comment(self) -> None:
        if self.permission not in COMMENTING:
            raise Forbidden("Your share of this document does not allow comments.")


class AccessPolicy:
    """Resolves a caller's access; a document the caller may not see is simply not found."""

    def __init__(self, documents: DocumentRepository, shares: ShareRepository) -> None:
        self.documents = documents
        self.shares = shares

    async def resolve(self, document_id: str, user_id: str) -> Access:
        doc = await self.documents.get(checked_id(document_id, "document"))
        if doc is None:
            raise NotFound("No such document.")
        if doc["owner_id"] == user_id:
            return Access(doc, OWNER)
        share = await self.shares.active(document_id, user_id)
        if share is None:
            raise NotFound("No such document.")
        return Access(doc, str(share["permission"]))
