"""What sharing publishes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from docflow_documents.sharing.schemas import SharePermission
from docflow_shared.events import Client, Person
from docflow_shared.events.catalogue import DocumentShared, DocumentShareRevoked

# the catalogue spells each permission out: one added to SharePermission must be added there too
EVENT_PERMISSIONS: dict[SharePermission, Literal["read", "comment", "sign"]] = {
    SharePermission.read: "read", SharePermission.comment: "comment", SharePermission.sign: "sign",
}


def shared(*, document_id: str, title: str, owner: Person, recipient: Person, permission: SharePermission,
           message: str, grant_version: int, client: Client) -> DocumentShared:
    return DocumentShared(document_id=document_id, title=title, owner=owner, recipient=recipient,
                          permission=EVENT_PERMISSIONS[permission], message=message,
                          grant_version=grant_version, client=client)


def revoked(*, document_id: str, owner_id: str, recipient_id: str, grant_version: int,
            client: Client) -> DocumentShareRevoked:
    return DocumentShareRevoked(document_id=document_id, owner_id=owner_id, recipient_id=recipient_id,
                                grant_version=grant_version, client=client)


def next_grant_version(current: Mapping[str, Any] | None, now_us: int) -> int:
    """The version of the next share or revoke of a grant: the clock's microseconds, and always
    past the stored one (a purged share starts again from the clock)."""
    return max(now_us, int((current or {}).get("grant_version", 0)) + 1)
