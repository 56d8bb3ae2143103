"""People outside DocFlow read the one document routes opened a session for: its files, nothing else.

Routes proves the person's address (link, e-mail code) and publishes the hash of the session token
it gave them (``route.external_access_granted``); the token itself never travels in an event
(docs/architecture.md, "People outside DocFlow")."""

from __future__ import annotations

import hashlib

from docflow_documents.files.schemas import FileDownload
from docflow_documents.files.service import FileService
from docflow_documents.outsiders.repository import OutsiderSessionRepository
from docflow_shared.errors import Unauthorized
from docflow_shared.events import Client
from docflow_shared.events.catalogue import RouteExternalAccessGranted, RouteExternalAccessRevoked
from docflow_shared.projection.outsiders import live


class OutsiderService:
    def __init__(self, repository: OutsiderSessionRepository, files: FileService) -> None:
        self.repository = repository
        self.files = files

    async def granted(self, granted: RouteExternalAccessGranted) -> None:
        await self.repository.grant(granted)

    async def revoked(self, revoked: RouteExternalAccessRevoked) -> None:
        await self.repository.revoke(revoked.session_hash)

    async def download(self, *, session_token: str | None, file_id: str, range_header: str | None,
                       if_none_match: str | None, client: Client) -> FileDownload:
        """A file of the session's document; 401 without a live session, 404 for any other file.
        The download is the participant's (``signer_id`` of the grant) in the audit trail."""
        if not session_token:
            raise Unauthorized("This needs the DocFlow-External-Session header.", slug="session-missing")
        session = await self.repository.get(hashlib.sha256(session_token.encode()).hexdigest())
        if session is None or not live(session):
            raise Unauthorized("The session is unknown or has expired.", slug="session-invalid")
        return await self.files.serve(document_id=str(session["document_id"]), file_id=file_id,
                                      range_header=range_header, if_none_match=if_none_match,
                                      downloader_id=str(session.get("signer_id") or ""), client=client)
