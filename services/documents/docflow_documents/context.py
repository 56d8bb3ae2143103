"""Everything the documents service wires together in its lifespan, in one place."""

from __future__ import annotations

from docflow_documents.comments.repository import CommentRepository
from docflow_documents.comments.service import CommentService
from docflow_documents.contacts.repository import ContactRepository
from docflow_documents.contacts.service import ContactService
from docflow_documents.documents.access import AccessPolicy
from docflow_documents.documents.repository import DocumentRepository, SignatureRecordRepository
from docflow_documents.documents.service import DocumentService
from docflow_documents.files.blob_store import BlobStore
from docflow_documents.files.crypto import KeyRing
from docflow_documents.files.repository import FileRepository
from docflow_documents.files.service import FileService
from docflow_documents.files.zip_listing import ZipLimits
from docflow_documents.settings import MIB, DocumentsSettings
from docflow_documents.sharing.repository import InboxRepository, ShareRepository
from docflow_documents.sharing.service import SharingService
from docflow_documents.users.repository import UserRepository
from docflow_documents.users.service import UserDirectory
from docflow_documents.versions.repository import VersionRepository
from docflow_documents.versions.service import VersionService
from docflow_shared.mongo import ProcessedEvents
from docflow_shared.runtime import ServiceRuntime

OUTBOX_COLLECTIONS = ("documents", "files", "shares")


class DocumentsContext:
    """Repositories and services of the documents service, built once per process."""

    def __init__(self, runtime: ServiceRuntime, settings: DocumentsSettings, keyring: KeyRing) -> None:
        db, outbox, event = runtime.db, runtime.outbox, runtime.event
        self.runtime = runtime
        self.settings = settings
        self.processed = ProcessedEvents(db, "documents")
        self.user_repository = UserRepository(db)
        self.document_repository = DocumentRepository(db, outbox)
        self.signature_repository = SignatureRecordRepository(db)
        self.version_repository = VersionRepository(db)
        self.file_repository = FileRepository(db, outbox)
        self.share_repository = ShareRepository(db, outbox)
        self.inbox_repository = InboxRepository(db)
        self.comment_repository = CommentRepository(db)
        self.contact_repository = ContactRepository(db)
        self.blobs = BlobStore(db, keyring, upload_idle_seconds=settings.upload_idle_seconds)

        self.users = UserDirectory(self.user_repository)
        self.access = AccessPolicy(self.document_repository, self.share_repository)
        self.documents = DocumentService(self.document_repository, self.version_repository, self.share_repository,
                                         self.access, event, settings.shared_scope_limit)
        self.versions = VersionService(self.version_repository, self.access)
        self.files = FileService(
            self.file_repository, self.blobs, self.access, event, max_bytes=settings.max_upload_bytes,
            zip_limits=ZipLimits(
                max_entries=settings.zip_max_entries, max_ratio=settings.zip_max_ratio,
                max_total_bytes=int(settings.zip_max_total_mb * MIB),
                max_directory_bytes=int(settings.zip_max_directory_mb * MIB),
            ),
        )
        self.sharing = SharingService(self.share_repository, self.inbox_repository, self.access, self.users, event)
        self.comments = CommentService(self.comment_repository, self.access, self.users)
        self.contacts = ContactService(self.contact_repository, self.users)

    async def create_indexes(self) -> None:
        await self.runtime.db["processed_events"].create_index([("at", 1)])
        for repository in (
            self.user_repository, self.document_repository, self.signature_repository, self.version_repository,
            self.file_repository, self.share_repository, self.inbox_repository, self.comment_repository,
            self.contact_repository, self.blobs,
        ):
            await repository.create_indexes()
