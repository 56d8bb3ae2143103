"""Events of documents: ``document.*`` and ``file.downloaded`` (catalogue v1)."""

from __future__ import annotations

from typing import Literal

from docflow_shared.events.envelope import EventPayload
from docflow_shared.events.person import Client, Person


class DocumentCreated(EventPayload):
    TYPE = "document.created"
    document_id: str
    owner_id: str
    title: str
    status: str


class DocumentUpdated(EventPayload):
    TYPE = "document.updated"
    document_id: str
    owner_id: str
    title: str
    status: str
    version: int


class DocumentDeleted(EventPayload):
    TYPE = "document.deleted"
    document_id: str
    owner_id: str


class DocumentFileAdded(EventPayload):
    TYPE = "document.file_added"
    document_id: str
    file_id: str
    owner_id: str
    name: str
    size: int
    sha256: str
    content_type: str


class DocumentFileDigested(EventPayload):
    """The Streebog digests of a stored file, computed once when signing asked for them
    (``signature.file_digests_requested``); hex, next to the SHA-256 of ``document.file_added``."""

    TYPE = "document.file_digested"
    document_id: str
    file_id: str
    sha256: str
    streebog256: str
    streebog512: str


class DocumentFileRemoved(EventPayload):
    TYPE = "document.file_removed"
    document_id: str
    file_id: str
    owner_id: str


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


class DocumentShareRevoked(EventPayload):
    """Added to v1: a share grant was withdrawn (signing drops the permission)."""

    TYPE = "document.share_revoked"
    document_id: str
    owner_id: str
    recipient_id: str
    grant_version: int = 0
    """See ``DocumentShared.grant_version``."""
    client: Client = Client()
    """Where the owner's request came from."""


class DocumentViewed(EventPayload):
    """Someone read a document (its record, not a file's bytes); for the audit trail."""

    TYPE = "document.viewed"
    document_id: str
    owner_id: str
    viewer_id: str
    client: Client = Client()


class FileDownloaded(EventPayload):
    """Someone downloaded a file's content (a whole file or a byte range); for the audit trail."""

    TYPE = "file.downloaded"
    document_id: str
    file_id: str
    owner_id: str
    downloader_id: str
    name: str = ""
    sha256: str = ""
    byte_range: str = ""
    client: Client = Client()


class DocumentCommented(EventPayload):
    """A comment was added to a document; for the audit trail (the body stays in documents)."""

    TYPE = "document.commented"
    document_id: str
    owner_id: str
    comment_id: str
    author_id: str
    client: Client = Client()
