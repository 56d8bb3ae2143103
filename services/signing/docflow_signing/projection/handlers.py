"""Consumers of user.* and document.* events that keep the projection (idempotent)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from docflow_shared.events import Event
from docflow_shared.events.catalogue import (
    DocumentCreated,
    DocumentDeleted,
    DocumentFileAdded,
    DocumentFileRemoved,
    DocumentShared,
    DocumentShareRevoked,
    DocumentUpdated,
    UserDeleted,
    UserRegistered,
    UserUpdated,
)
from docflow_shared.mongo import ProcessedEvents
from docflow_shared.runtime import ServiceRuntime
from docflow_signing.certificates.repository import CertificateRepository
from docflow_signing.projection.repository import ProjectionRepository
from docflow_signing.requests.service import SignatureRequestService

logger = logging.getLogger(__name__)


class ProjectionHandlers:
    """One method per consumed event type; each is safe to run twice."""

    def __init__(self, *, projection: ProjectionRepository, certificates: CertificateRepository,
                 requests: SignatureRequestService, processed: ProcessedEvents) -> None:
        self.projection = projection
        self.certificates = certificates
        self.requests = requests
        self.processed = processed

    def subscribe(self, runtime: ServiceRuntime) -> None:
        routes: dict[str, Callable[[Event], Awaitable[None]]] = {
            UserRegistered.TYPE: self.user_registered,
            UserUpdated.TYPE: self.user_updated,
            UserDeleted.TYPE: self.user_deleted,
            DocumentCreated.TYPE: self.document_created,
            DocumentUpdated.TYPE: self.document_updated,
            DocumentDeleted.TYPE: self.document_deleted,
            DocumentFileAdded.TYPE: self.file_added,
            DocumentFileRemoved.TYPE: self.file_removed,
            DocumentShared.TYPE: self.document_shared,
            DocumentShareRevoked.TYPE: self.share_revoked,
        }
        for event_type, handler in routes.items():
            runtime.subscribe(event_type, self._once(handler))

    def _once(self, handler: Callable[[Event], Awaitable[None]]) -> Callable[[Event], Awaitable[None]]:
        async def run(event: Event) -> None:
            await self.processed.run_once(event, lambda: handler(event))

        return run

    async def user_registered(self, event: Event) -> None:
        data: UserRegistered = event.payload(UserRegistered)
        await self.projection.upsert_user(user_id=data.user_id, email=data.email, full_name=data.full_name,
                                          locale=data.locale, iin=data.iin, at=event.occurred_at)

    async def user_updated(self, event: Event) -> None:
        data: UserUpdated = event.payload(UserUpdated)
        await self.projection.upsert_user(user_id=data.user_id, email=data.email, full_name=data.full_name,
                                          locale=data.locale, iin=data.iin, at=event.occurred_at)

    async def user_deleted(self, event: Event) -> None:
        data: UserDeleted = event.payload(UserDeleted)
        await self.projection.delete_user(data.user_id, event.occurred_at)
        await self.certificates.delete_all_of(data.user_id)
        await self.requests.remove_signer_everywhere(data.user_id)

    async def document_created(self, event: Event) -> None:
        data: DocumentCreated = event.payload(DocumentCreated)
        await self.projection.upsert_document(document_id=data.document_id, owner_id=data.owner_id,
                                              title=data.title, status=data.status, at=event.occurred_at)

    async def document_updated(self, event: Event) -> None:
        data: DocumentUpdated = event.payload(DocumentUpdated)
        await self.projection.upsert_document(document_id=data.document_id, owner_id=data.owner_id,
                                              title=data.title, status=data.status, at=event.occurred_at)

    async def document_deleted(self, event: Event) -> None:
        data: DocumentDeleted = event.payload(DocumentDeleted)
        await self.projection.delete_document(data.document_id, data.owner_id, event.occurred_at)
        await self.requests.close_for_deleted_document(data.document_id)

    async def file_added(self, event: Event) -> None:
        data: DocumentFileAdded = event.payload(DocumentFileAdded)
        await self.projection.add_file(file_id=data.file_id, document_id=data.document_id,
                                       owner_id=data.owner_id, name=data.name, size=data.size,
                                       sha256=data.sha256, content_type=data.content_type)

    async def file_removed(self, event: Event) -> None:
        data: DocumentFileRemoved = event.payload(DocumentFileRemoved)
        await self.projection.remove_file(data.file_id, data.document_id)

    async def document_shared(self, event: Event) -> None:
        data: DocumentShared = event.payload(DocumentShared)
        await self.projection.grant(document_id=data.document_id, user_id=data.recipient.user_id,
                                    permission=data.permission)

    async def share_revoked(self, event: Event) -> None:
        data: DocumentShareRevoked = event.payload(DocumentShareRevoked)
        await self.projection.revoke(document_id=data.document_id, user_id=data.recipient_id)
