"""Events of documents: ``document.*`` and ``file.downloaded`` (catalogue v1)."""

from __future__ import annotations

from typing import Literal

from docflow_shared.events.envelope import EventPayload
from docflow_shared.events.facts import DocumentFacts, FileFacts, FileRef
from docflow_shared.events.person import Client, Person


class DocumentCreated(DocumentFacts):
    TYPE = "document.created"
    title: str
    status: str


class DocumentUpdated(DocumentFacts):
    TYPE = "document.updated"
    title: str
    status: str
    version: int


class DocumentDeleted(DocumentFacts):
    TYPE = "document.deleted"


class DocumentFileAdded(FileFacts):
    TYPE = "document.file_added"
    name: str
    size: int
    sha256: str
    content_type: str


class DocumentFileDigested(FileRef):
    """The Streebog digests of a stored file, computed once when signing asked for them
    (``signature.file_digests_requested``); hex, next to the SHA-256 of ``document.file_added``."""

    TYPE = "document.file_digested"
    sha256: str
    streebog256: str
    streebog512: str


class DocumentFileRemoved(FileFacts):
    TYPE = "document.file_removed"


class DocumentShared(EventPayload):
    TYPE = "document.shared"
    document_id: str
    title: str
    owner: Person
    recipient: Person
    permission: Literal["read", "comment", "sign"]
    message: str = ""
    grant_version: int = 0
    """Grows with every share or revoke of this (document, recipient); consumers apply only a
    version at least as new as the one they hold (0: sent before versions existed)."""
    client: Client = Client()
    """Where the owner's request came from (empty for a waiting share delivered on verification)."""


class DocumentShareRevoked(DocumentFacts):
    """Added to v1: a share grant was withdrawn (signing drops the permission)."""

    TYPE = "document.share_revoked"
    recipient_id: str
    grant_version: int = 0
    """See ``DocumentShared.grant_version``."""
    client: Client = Client()
    """Where the owner's request came from."""


class DocumentViewed(DocumentFacts):
    """Someone read a document (its record, not a file's bytes); for the audit trail."""

    TYPE = "document.viewed"
    viewer_id: str
    client: Client = Client()


class FileDownloaded(FileFacts):
    """Someone downloaded a file's content (a whole file or a byte range); for the audit trail."""

    TYPE = "file.downloaded"
    downloader_id: str
    name: str = ""
    sha256: str = ""
    byte_range: str = ""
    client: Client = Client()


class DocumentCommented(DocumentFacts):
    """A comment was added to a document; for the audit trail (the body stays in documents)."""

    TYPE = "document.commented"
    comment_id: str
    author_id: str
    client: Client = Client()
