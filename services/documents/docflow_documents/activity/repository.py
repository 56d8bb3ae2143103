"""Every query on ``activity``: one short-lived record per read, carrying its event."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from docflow_documents.ids import ID_LENGTH
from docflow_shared.events import Event
from docflow_shared.ids import new_id
from docflow_shared.outbox import PURGE, Outbox

COLLECTION = "activity"


class ActivityRepository:
    """A read changes no document, so its event rides in a record of its own, which the relay
    deletes once the event is published (``purge_when_published``): nothing stays here, and a
    view never races a writer of the document for its ``outbox_rev``."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], outbox: Outbox) -> None:
        self.activity = db[COLLECTION]
        self.outbox = outbox

    async def create_indexes(self) -> None:
        """The relay creates the ``outbox_pending`` index it polls; nothing else is queried."""

    async def record(self, document_id: str, event: Event) -> None:
        await self.outbox.insert(self.activity, {"_id": new_id(length=ID_LENGTH), "document_id": document_id,
                                                 "type": event.type, PURGE: True}, [event])
