"""What signing does when users and documents change elsewhere: its projection
(``docflow_shared.projection``) with IINs and file digests, and the certificates and route
access that hang on it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from docflow_shared.events import catalogue
from docflow_shared.projection.service import ProjectionService as SharedProjectionService
from docflow_signing.certificates.service import CertificateService
from docflow_signing.projection.repository import ProjectionRepository
from docflow_signing.routes.repository import RouteAccessRepository


class ProjectionService(SharedProjectionService[ProjectionRepository]):
    """The shared projection's facts, and signing's own: a user's IIN, a file's Streebog digests."""

    def __init__(self, *, repository: ProjectionRepository, certificates: CertificateService,
                 routes: RouteAccessRepository) -> None:
        super().__init__(repository=repository)
        self.certificates = certificates
        self.routes = routes

    def profile_extras(self, user: catalogue.UserRegistered | catalogue.UserUpdated) -> Mapping[str, Any]:
        return {"iin": user.iin}

    async def user_gone(self, user_id: str) -> None:
        await self.certificates.delete_all_of(user_id)
        await self.routes.forget_user(user_id)

    async def document_gone(self, document_id: str) -> None:
        await self.routes.forget_document(document_id)

    async def file_digested(self, digested: catalogue.DocumentFileDigested, at: datetime) -> None:
        await self.repository.set_file_digests(file_id=digested.file_id, document_id=digested.document_id,
                                               sha256=digested.sha256, streebog256=digested.streebog256,
                                               streebog512=digested.streebog512)
