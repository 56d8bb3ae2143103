"""Announces who read a document or downloaded a file, from where, for the audit trail."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from docflow_documents.activity import events
from docflow_documents.activity.repository import ActivityRepository
from docflow_shared.events import Client, Event, EventPayload

MakeEvent = Callable[[EventPayload], Event]


class ActivityLog:
    """Each read is stored with its event before the answer goes out, so a read that was
    answered is a read the audit trail hears about (docs/architecture.md, "Audit trail")."""

    def __init__(self, repository: ActivityRepository, event: MakeEvent) -> None:
        self.repository = repository
        self.event = event

    async def viewed(self, document: Mapping[str, Any], viewer_id: str, client: Client) -> None:
        await self.repository.record(str(document["_id"]), self.event(events.viewed(document, viewer_id, client)))

    async def downloaded(self, file: Mapping[str, Any], downloader_id: str, byte_range: str, client: Client) -> None:
        event = self.event(events.downloaded(file, downloader_id, byte_range, client))
        await self.repository.record(str(file["document_id"]), event)
