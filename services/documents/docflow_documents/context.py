"""Everything the documents service wires together in its lifespan, in one place."""

from __future__ import annotations

from docflow_documents.activity.repository import COLLECTION as ACTIVITY
from docflow_documents.activity.repository import ActivityRepository
from docflow_documents.activity.service import ActivityLog
from docflow_documents.comments.repository import CommentRepository
from docflow_documents.comments.service import CommentService
from docflow_documents.contacts.repository import ContactRepository
from docflow_documents.contacts.service import ContactService
from docflow_documents.documents.access import AccessPolicy
from docflow_documents.documents.removal import DocumentRemoval
from docflow_documents.documents.repository import DocumentRepository, SignatureRecordRepository
from docflow_documents.documents.service import DocumentService
from docflow_documents.files.blob_store import BlobStore
from docflow_documents.files.crypto import KeyRing
from docflow_documents.files.repository import FileRepository
from docflow_documents.files.service import FileService
from docflow_documents.files.zip_listing import ZipLimits
from docflow_documents.outsiders.repository import OutsiderSessionRepository
from docflow_documents.outsiders.service import OutsiderService
from docflow_documents.settings import MIB, DocumentsSettings
from docflow_documents.sharing.repository import InboxRepository, ShareRepository
from docflow_documents.sharing.service import SharingService
from docflow_documents.users.repository import UserRepository
from docflow_documents.users.service import UserDirectory, UserErasure
from docflow_documents.versions.repository import VersionRepository
from docflow_documents.versions.service import VersionService
from docflow_shared.runtime import ContextBase, ServiceRuntime

OUTBOX_COLLECTIONS = ("documents", "files", "shares", "comments", ACTIVITY)


class DocumentsContext(ContextBase[DocumentsSettings]):
    """Repositories and services of the documents service, built once per process."""

    def __init__(self, runtime: ServiceRuntime, settings: DocumentsSettings, keyring: KeyRing) -> None:
        super().__init__(runtime, settings)
        db, outbox, event = runtime.db, runtime.outbox, runtime.event
        self.user_repository = UserRepository(db)
        self.document_repository = DocumentRepository(db, outbox)
        self.signature_repository = SignatureRecordRepository(db)
        self.version_repository = VersionRepository(db)
        self.file_repository = FileRepository(db, outbox)
        self.share_repository = ShareRepository(db, outbox)
        self.inbox_repository = InboxRepository(db)
        self.comment_repository = CommentRepository(db, outbox)
        self.activity_repository = ActivityRepository(db, outbox)
        self.contact_repository = ContactRepository(db)
        self.blobs = BlobStore(db, keyring, upload_idle_seconds=settings.upload_idle_seconds)

        self.users = UserDirectory(self.user_repository)
        self.access = AccessPolicy(self.document_repository, self.share_repository)
        self.activity = ActivityLog(self.activity_repository, event)
        self.documents = DocumentService(self.document_repository, self.version_repository, self.share_repository,
                                         self.access, event, settings.shared_scope_limit, self.signature_repository,
                                         self.activity)
        self.versions = VersionService(self.version_repository, self.access)
        self.files = FileService(
            self.file_repository, self.blobs, self.access, event, max_bytes=settings.max_upload_bytes,
            signatures=self.signature_repository, activity=self.activity,
            zip_limits=ZipLimits(
                max_entries=settings.zip_max_entries, max_ratio=settings.zip_max_ratio,
                max_total_bytes=int(settings.zip_max_total_mb * MIB),
                max_directory_bytes=int(settings.zip_max_directory_mb * MIB),
            ),
        )
        self.outsider_repository = OutsiderSessionRepository(db)
        self.outsiders = OutsiderService(self.outsider_repository, self.files)
        self.sharing = SharingService(self.share_repository, self.inbox_repository, self.access, self.users, event)
        self.comments = CommentService(self.comment_repository, self.access, self.users, event)
        self.contacts = ContactService(self.contact_repository, self.users)
        self.removal = DocumentRemoval(self.files, self.share_repository, self.inbox_repository,
                                       self.comment_repository, self.version_repository, self.signature_repository)
        self.erasure = UserErasure(self.users, self.documents, self.document_repository, self.share_repository,
                                   self.inbox_repository, self.comment_repository, self.contact_repository)

    async def create_indexes(self) -> None:
        for repository in (
            self.processed, self.user_repository, self.document_repository, self.signature_repository,
            self.version_repository, self.file_repository, self.share_repository, self.inbox_repository,
            self.comment_repository, self.contact_repository, self.blobs, self.outsider_repository,
        ):
            await repository.create_indexes()
