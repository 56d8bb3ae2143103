"""Catalogue v1: the typed payload of every event. Add fields, never repurpose them.

Events that lead to an e-mail carry the recipient's address, name and locale, so the mail
service needs no projection of users of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from docflow_shared.events.envelope import EventPayload

Locale = Literal["ru", "en"]


class Person(BaseModel):
    """Someone an event concerns, as much as mail needs to write to them."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    user_id: str
    email: str
    full_name: str = ""
    locale: Locale = "ru"


# --- auth: user.* ---------------------------------------------------------------------------

class UserRegistered(EventPayload):
    TYPE = "user.registered"
    user_id: str
    email: str
    full_name: str
    locale: Locale = "ru"
    phone: str | None = None
    iin: str | None = None
    role: str = "user"


class UserEmailVerificationRequested(EventPayload):
    TYPE = "user.email_verification_requested"
    user_id: str
    email: str
    full_name: str
    locale: Locale = "ru"
    code: str
    token: str
    expires_at: datetime


class UserEmailVerified(EventPayload):
    TYPE = "user.email_verified"
    user_id: str
    email: str


class UserPasswordResetRequested(EventPayload):
    TYPE = "user.password_reset_requested"
    user_id: str
    email: str
    full_name: str
    locale: Locale = "ru"
    token: str
    expires_at: datetime


class UserPasswordChanged(EventPayload):
    TYPE = "user.password_changed"
    user_id: str
    email: str
    full_name: str
    locale: Locale = "ru"
    changed_at: datetime
    reason: Literal["changed", "reset"] = "changed"


class UserLocked(EventPayload):
    TYPE = "user.locked"
    user_id: str
    email: str
    full_name: str
    locale: Locale = "ru"
    locked_until: datetime
    failed_attempts: int


class UserUpdated(EventPayload):
    TYPE = "user.updated"
    user_id: str
    email: str
    full_name: str
    locale: Locale = "ru"
    phone: str | None = None
    iin: str | None = None
    email_verified: bool = False


class UserRoleChanged(EventPayload):
    TYPE = "user.role_changed"
    user_id: str
    role: str
    previous_role: str
    blocked: bool = False


class UserDeleted(EventPayload):
    TYPE = "user.deleted"
    user_id: str
    deleted_at: datetime


# --- documents: document.* ------------------------------------------------------------------

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


class DocumentShareRevoked(EventPayload):
    """Added to v1: a share grant was withdrawn (signing drops the permission)."""

    TYPE = "document.share_revoked"
    document_id: str
    owner_id: str
    recipient_id: str


# --- signing: signature.*, document.signed, document.completed -------------------------------

class SignatureRequested(EventPayload):
    TYPE = "signature.requested"
    request_id: str
    document_id: str
    title: str
    owner: Person
    signer: Person
    message: str = ""
    expires_at: datetime | None = None
    reminder: bool = False


class SignatureRequestExpired(EventPayload):
    """Added to v1: a request closed unsigned at its expiry; the owner is told."""

    TYPE = "signature.request_expired"
    request_id: str
    document_id: str
    title: str
    owner: Person
    pending_signers: list[Person] = []


class SignatureRequestCancelled(EventPayload):
    """Added to v1: the owner withdrew a request (documents drops the inbox items)."""

    TYPE = "signature.request_cancelled"
    request_id: str
    document_id: str
    owner_id: str
    signer_ids: list[str] = []


class DocumentSigned(EventPayload):
    TYPE = "document.signed"
    document_id: str
    file_id: str
    signature_id: str
    title: str
    signer: Person
    owner: Person
    signed_at: datetime
    request_id: str | None = None


class DocumentCompleted(EventPayload):
    TYPE = "document.completed"
    document_id: str
    request_id: str
    title: str
    owner: Person
    participants: list[Person]
    completed_at: datetime


# --- mail: mail.* -----------------------------------------------------------------------------

class MailSent(EventPayload):
    TYPE = "mail.sent"
    delivery_id: str
    event_id: str
    recipient: str
    template: str


class MailFailed(EventPayload):
    TYPE = "mail.failed"
    delivery_id: str
    event_id: str
    recipient: str
    template: str
    error: str


CATALOGUE: dict[str, type[EventPayload]] = {
    cls.TYPE: cls
    for cls in (
        UserRegistered, UserEmailVerificationRequested, UserEmailVerified,
        UserPasswordResetRequested, UserPasswordChanged, UserLocked, UserUpdated,
        UserRoleChanged, UserDeleted, DocumentCreated, DocumentUpdated, DocumentDeleted,
        DocumentFileAdded, DocumentFileRemoved, DocumentShared, DocumentShareRevoked,
        SignatureRequested, SignatureRequestExpired, SignatureRequestCancelled,
        DocumentSigned, DocumentCompleted, MailSent, MailFailed,
    )
}
