"""What routes does when users and documents change elsewhere: its projection and the requests on it."""

from __future__ import annotations

from datetime import datetime

from docflow_routes.projection.repository import ProjectionRepository
from docflow_routes.requests.lifecycle import RequestLifecycle
from docflow_shared.events import catalogue


class ProjectionService:
    """One method per consumed fact, given with the time it happened; each is safe to run twice
    (an older fact loses to a newer one)."""

    def __init__(self, *, repository: ProjectionRepository, requests: RequestLifecycle) -> None:
        self.repository = repository
        self.requests = requests

    async def user_registered(self, user: catalogue.UserRegistered, at: datetime) -> None:
        await self.repository.upsert_user(user_id=user.user_id, email=user.email, full_name=user.full_name,
                                          locale=user.locale, at=at)

    async def user_updated(self, user: catalogue.UserUpdated, at: datetime) -> None:
        await self.repository.upsert_user(user_id=user.user_id, email=user.email, full_name=user.full_name,
                                          locale=user.locale, at=at)
        # an unverified address on a newer update means the account has none proven now
        await self._set_proven_address(user.user_id, user.email if user.email_verified else None, at)

    async def email_verified(self, verified: catalogue.UserEmailVerified, at: datetime) -> None:
        await self._set_proven_address(verified.user_id, verified.email, at)

    async def _set_proven_address(self, user_id: str, email: str | None, at: datetime) -> None:
        """Signer entries waiting for the address the projection now says this user has proven
        become theirs; a superseded event's own address is not looked at."""
        await self.repository.set_verified_address(user_id, email, at)
        address = await self.repository.proven_address(user_id)
        if address:
            await self.requests.bind_waiting_signer(user_id, address)

    async def user_deleted(self, deleted: catalogue.UserDeleted, at: datetime) -> None:
        await self.repository.delete_user(deleted.user_id, at)
        await self.requests.remove_signer_everywhere(deleted.user_id)

    async def document_saved(self, document: catalogue.DocumentCreated | catalogue.DocumentUpdated,
                             at: datetime) -> None:
        await self.repository.upsert_document(document_id=document.document_id, owner_id=document.owner_id,
                                              title=document.title, status=document.status, at=at)

    async def document_deleted(self, deleted: catalogue.DocumentDeleted, at: datetime) -> None:
        await self.repository.delete_document(deleted.document_id, deleted.owner_id, at)
        await self.requests.close_for_deleted_document(deleted.document_id)

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
