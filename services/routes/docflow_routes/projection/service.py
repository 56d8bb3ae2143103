"""What routes does when users and documents change elsewhere: its projection
(``docflow_shared.projection``) and the requests on it."""

from __future__ import annotations

from docflow_routes.projection.repository import ProjectionRepository
from docflow_routes.requests.lifecycle import RequestLifecycle
from docflow_shared.projection.service import ProjectionService as SharedProjectionService


class ProjectionService(SharedProjectionService[ProjectionRepository]):
    """The shared projection's facts; requests follow the users and documents they name."""

    def __init__(self, *, repository: ProjectionRepository, requests: RequestLifecycle) -> None:
        super().__init__(repository=repository)
        self.requests = requests

    async def address_proven(self, user_id: str) -> None:
        """Signer entries waiting for the address the projection now says this user has proven
        become theirs; a superseded event's own address is not looked at."""
        address = await self.repository.proven_address(user_id)
        if address:
            await self.requests.bind_waiting_signer(user_id, address)

    async def user_gone(self, user_id: str) -> None:
        await self.requests.remove_signer_everywhere(user_id)

    async def document_gone(self, document_id: str) -> None:
        await self.requests.close_for_deleted_document(document_id)
