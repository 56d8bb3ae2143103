"""What hangs off a document, removed once its deletion is out (``document.deleted``)."""

from __future__ import annotations

from dataclasses import dataclass

from docflow_documents.comments.repository import CommentRepository
from docflow_documents.documents.repository import SignatureRecordRepository
from docflow_documents.files.service import FileService
from docflow_documents.sharing.repository import InboxRepository, ShareRepository
from docflow_documents.versions.repository import VersionRepository


@dataclass
class DocumentRemoval:
    """Files, shares, inbox items, comments, versions and signature records of a deleted document.

    Runs from the service's own ``document.deleted``, not from the request that deleted it: the
    document is hidden at once and its data goes only when the deletion is announced, so a crash
    in between leaves nothing the event does not clean up."""

    files: FileService
    shares: ShareRepository
    inbox: InboxRepository
    comments: CommentRepository
    versions: VersionRepository
    signatures: SignatureRecordRepository

    async def remove_data_of(self, document_id: str) -> None:
        """Each step can run again safely."""
        await self.files.delete_all_of_document(document_id)
        await self.shares.delete_for_documents([document_id])
        await self.inbox.delete_for_documents([document_id])
        await self.comments.delete_for_documents([document_id])
        await self.versions.delete_for_document(document_id)
        await self.signatures.delete_for_documents([document_id])
