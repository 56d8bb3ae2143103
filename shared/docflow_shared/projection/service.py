"""What a service does when users and documents change elsewhere: its projection, and through the
hooks, what hangs on it there."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from docflow_shared.events import catalogue
from docflow_shared.projection.repository import ProjectionRepository

R = TypeVar("R", bound=ProjectionRepository)


class ProjectionService(Generic[R]):
    """One method per consumed fact, given with the time it happened; each is safe to run twice
    (an older fact loses to a newer one). A service extends it by overriding the hooks
    (``profile_extras``, ``address_proven``, ``user_gone``, ``document_gone``)."""

    def __init__(self, *, repository: R) -> None:
        self.repository = repository

    # --- hooks -----------------------------------------------------------------------------------

    def profile_extras(self, user: catalogue.UserRegistered | catalogue.UserUpdated) -> Mapping[str, Any]:
        """The profile fields only this service keeps (none by default)."""
        return {}

    async def address_proven(self, user_id: str) -> None:
        """Runs after a user's proven address is recorded (or cleared)."""

    async def user_gone(self, user_id: str) -> None:
        """Runs after a user is deleted from the projection."""

    async def document_gone(self, document_id: str) -> None:
        """Runs after a document is deleted from the projection."""

    # --- the facts -------------------------------------------------------------------------------

    async def user_registered(self, user: catalogue.UserRegistered, at: datetime) -> None:
        await self.repository.upsert_user(user_id=user.user_id, email=user.email, full_name=user.full_name,
                                          locale=user.locale, at=at, extra=self.profile_extras(user))

    async def user_updated(self, user: catalogue.UserUpdated, at: datetime) -> None:
        await self.repository.upsert_user(user_id=user.user_id, email=user.email, full_name=user.full_name,
                                          locale=user.locale, at=at, extra=self.profile_extras(user))
        # an unverified address on a newer update means the account has none proven now
        await self._set_proven_address(user.user_id, user.email if user.email_verified else None, at)

    async def email_verified(self, verified: catalogue.UserEmailVerified, at: datetime) -> None:
        await self._set_proven_address(verified.user_id, verified.email, at)

    async def _set_proven_address(self, user_id: str, email: str | None, at: datetime) -> None:
        await self.repository.set_verified_address(user_id, email, at)
        await self.address_proven(user_id)

    async def user_deleted(self, deleted: catalogue.UserDeleted, at: datetime) -> None:
        await self.repository.delete_user(deleted.user_id, at)
        await self.user_gone(deleted.user_id)

    async def document_saved(self, document: catalogue.DocumentCreated | catalogue.DocumentUpdated,
                             at: datetime) -> None:
        await self.repository.upsert_document(document_id=document.document_id, owner_id=document.owner_id,
                                              title=document.title, status=document.status, at=at)

    async def document_deleted(self, deleted: catalogue.DocumentDeleted, at: datetime) -> None:
        await self.repository.delete_document(deleted.document_id, deleted.owner_id, at)
        await self.document_gone(deleted.document_id)

    async def file_added(self, file: catalogue.DocumentFileAdded, at: datetime) -> None:
        await self.repository.add_file(file_id=file.file_id, document_id=file.document_id, owner_id=file.owner_id,
                                       name=file.name, size=file.size, sha256=file.sha256,
                                       content_type=file.content_type)

    async def file_removed(self, removed: catalogue.DocumentFileRemoved, at: datetime) -> None:
        await self.repository.remove_file(removed.file_id, removed.document_id)

    async def granted(self, shared: catalogue.DocumentShared, at: datetime) -> None:
        """A grant is ordered by its ``grant_version``, not by ``at``."""
        await self.repository.grant(document_id=shared.document_id, user_id=shared.recipient.user_id,
                                    permission=shared.permission, version=shared.grant_version)

    async def revoked(self, revoked: catalogue.DocumentShareRevoked, at: datetime) -> None:
        await self.repository.revoke(document_id=revoked.document_id, user_id=revoked.recipient_id,
                                     version=revoked.grant_version)
