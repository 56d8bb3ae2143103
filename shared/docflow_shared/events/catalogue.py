"""Catalogue v1: the typed payload of every event. Add fields, never repurpose them.

Events that lead to an e-mail carry the recipient's address, name and locale, so the mail
service needs no projection of users of its own.

The payloads live by producer in ``users``, ``documents``, ``signing``, ``routes`` and ``mail``;
this module names them all and maps each event type to its payload.
"""

from __future__ import annotations

from docflow_shared.events.documents import (
    DocumentCommented,
    DocumentCreated,
    DocumentDeleted,
    DocumentFileAdded,
    DocumentFileDigested,
    DocumentFileRemoved,
    DocumentShared,
    DocumentShareRevoked,
    DocumentUpdated,
    DocumentViewed,
    FileDownloaded,
)
from docflow_shared.events.envelope import EventPayload
from docflow_shared.events.mail import (
    MailFailed,
    MailSent,
)
from docflow_shared.events.routes import (
    RouteAccessChanged,
    RouteAccessLevel,
    RouteActionOrigin,
    RouteApproved,
    RouteCompleted,
    RouteCreated,
    RouteDeclined,
    RouteDelegated,
    RouteExpired,
    RouteExternalAccessGranted,
    RouteExternalAccessRevoked,
    RouteExternalCodeRequested,
    RouteExternalInvited,
    RouteParticipant,
    RouteParticipantAccess,
    RouteRole,
    RouteStageOpened,
)
from docflow_shared.events.signing import (
    DocumentCompleted,
    DocumentSigned,
    SignatureFileDigestsRequested,
    SignatureRequestCancelled,
    SignatureRequested,
    SignatureRequestExpired,
)
from docflow_shared.events.users import (
    SessionRevoked,
    UserBlocked,
    UserDeleted,
    UserEmailVerificationRequested,
    UserEmailVerified,
    UserLocked,
    UserPasswordChanged,
    UserPasswordResetRequested,
    UserRegistered,
    UserRoleChanged,
    UserUpdated,
)

__all__ = [
    "CATALOGUE",
    "DocumentCommented",
    "DocumentCompleted",
    "DocumentCreated",
    "DocumentDeleted",
    "DocumentFileAdded",
    "DocumentFileDigested",
    "DocumentFileRemoved",
    "DocumentShareRevoked",
    "DocumentShared",
    "DocumentSigned",
    "DocumentUpdated",
    "DocumentViewed",
    "FileDownloaded",
    "MailFailed",
    "MailSent",
    "RouteAccessChanged",
    "RouteAccessLevel",
    "RouteActionOrigin",
    "RouteApproved",
    "RouteCompleted",
    "RouteCreated",
    "RouteDeclined",
    "RouteDelegated",
    "RouteExpired",
    "RouteExternalAccessGranted",
    "RouteExternalAccessRevoked",
    "RouteExternalCodeRequested",
    "RouteExternalInvited",
    "RouteParticipant",
    "RouteParticipantAccess",
    "RouteRole",
    "RouteStageOpened",
    "SessionRevoked",
    "SignatureFileDigestsRequested",
    "SignatureRequestCancelled",
    "SignatureRequestExpired",
    "SignatureRequested",
    "UserBlocked",
    "UserDeleted",
    "UserEmailVerificationRequested",
    "UserEmailVerified",
    "UserLocked",
    "UserPasswordChanged",
    "UserPasswordResetRequested",
    "UserRegistered",
    "UserRoleChanged",
    "UserUpdated",
]

CATALOGUE: dict[str, type[EventPayload]] = {
    cls.TYPE: cls
    for cls in (
        UserRegistered, UserEmailVerificationRequested, UserEmailVerified,
        UserPasswordResetRequested, UserPasswordChanged, UserLocked, UserUpdated,
        UserRoleChanged, UserBlocked, SessionRevoked, UserDeleted, DocumentCreated, DocumentUpdated, DocumentDeleted,
        DocumentFileAdded, DocumentFileDigested, DocumentFileRemoved, DocumentShared, DocumentShareRevoked,
        DocumentViewed, FileDownloaded, DocumentCommented,
        SignatureFileDigestsRequested, SignatureRequested, SignatureRequestExpired, SignatureRequestCancelled,
        DocumentSigned, DocumentCompleted, MailSent, MailFailed, RouteAccessChanged,
        RouteCreated, RouteStageOpened, RouteApproved, RouteDeclined, RouteDelegated, RouteCompleted, RouteExpired,
        RouteExternalInvited, RouteExternalCodeRequested, RouteExternalAccessGranted, RouteExternalAccessRevoked,
    )
}
