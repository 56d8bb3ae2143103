"""Audit's projection of who may read a document's trail, and the check itself."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from docflow_audit.access.repository import ROUTE, SHARE, SIGNER, AccessRepository
from docflow_audit.access.schemas import AccessChange
from docflow_shared.errors import NotFound


class AccessService:
    """The owner and the participants (a live share, a signature request, a route) read a
    trail; for anyone else the document does not exist here either (404)."""

    def __init__(self, repository: AccessRepository, *, remembered: int = 10_000) -> None:
        self.repository = repository
        # owners never change: an owner this process stored once is not written again
        self._owners: OrderedDict[str, str] = OrderedDict()
        self._remembered = remembered

    async def apply(self, document_id: str, owner_id: str, changes: Sequence[AccessChange]) -> None:
        """What one event says about the document's owner and participants; safe to repeat."""
        await self.owner(document_id, owner_id)
        for change in changes:
            if change.kind == "shared":
                await self.shared(document_id, change.user_id, change.version)
            elif change.kind == "unshared":
                await self.unshared(document_id, change.user_id, change.version)
            elif change.kind == "signer":
                await self.signer(document_id, change.user_id)
            else:
                await self.route_participant(document_id, change.user_id)

    async def owner(self, document_id: str, owner_id: str) -> None:
        if not owner_id or self._owners.get(document_id) == owner_id:
            return
        await self.repository.set_owner(document_id, owner_id)
        self._owners[document_id] = owner_id
        if len(self._owners) > self._remembered:
            self._owners.popitem(last=False)

    async def shared(self, document_id: str, user_id: str, version: int) -> None:
        if user_id:
            await self.repository.set_share(document_id, user_id, True, version)

    async def unshared(self, document_id: str, user_id: str, version: int) -> None:
        if user_id:
            await self.repository.set_share(document_id, user_id, False, version)

    async def signer(self, document_id: str, user_id: str) -> None:
        if user_id:
            await self.repository.join(document_id, user_id, SIGNER)

    async def route_participant(self, document_id: str, user_id: str) -> None:
        if user_id:
            await self.repository.join(document_id, user_id, ROUTE)

    async def require_reader(self, document_id: str, user_id: str) -> None:
        if await self.repository.owner_of(document_id) == user_id:
            return
        participation = await self.repository.participation(document_id, user_id)
        if participation and any(participation.get(way) for way in (SHARE, SIGNER, ROUTE)):
            return
        raise NotFound("No such document.")
