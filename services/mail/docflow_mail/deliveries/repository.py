"""The only code that touches the ``deliveries`` collection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from docflow_mail.deliveries.schemas import OPEN_STATUSES, DeliveryStatus
from docflow_shared.dueloop import DeliveryLog, LogEntry
from docflow_shared.events import Event
from docflow_shared.mongo import Document, utc_now
from docflow_shared.outbox import Outbox, Whole, read_one
from docflow_shared.pagination import NEWEST_FIRST

COLLECTION = "deliveries"





class DeliveryDocument(LogEntry, total=False):
    recipient: str  # ``erased:<user id>`` once the user is erased
    recipient_name: str
    user_id: str | None
    template: str
    locale: str
    subject: str
    context: dict[str, Any]  # what the template needs to render again; secrets only sealed
    sealed_context: str
    smtp_reply: str
    sent_at: datetime


class DeliveryRepository(DeliveryLog[DeliveryDocument]):
    open_statuses = tuple(status.value for status in OPEN_STATUSES)
    pending = DeliveryStatus.PENDING.value
    sending = DeliveryStatus.SENDING.value

    def __init__(self, db: AsyncDatabase[Document], outbox: Outbox) -> None:
        super().__init__(db[COLLECTION], outbox, name="mail")

    async def ensure_indexes(self) -> None:
        await self.prepare(
            IndexModel([("event_id", ASCENDING), ("recipient", ASCENDING)], unique=True,
                       name="one_mail_per_event_and_recipient"),
            IndexModel([("recipient", ASCENDING)], name="by_recipient"),
            IndexModel([("user_id", ASCENDING)], name="by_user"),
        )

    async def find_for(self, event_id: str, recipient: str) -> Whole | None:
        return await read_one(self.collection, {"event_id": event_id, "recipient": recipient})

    async def update(self, current: Whole, changes: Mapping[str, Any],
                     events: Sequence[Event] = (), *, unset: Sequence[str] = (),
                     purge_when_published: bool = False) -> Whole:
        """Raises StaleDocument when another writer changed the delivery since ``current``."""
        return await super().update(current, {**changes, "updated_at": utc_now()}, events, unset=unset,
                                    purge_when_published=purge_when_published)

    async def erase_user(self, user_id: str) -> int:
        """Anonymise a deleted user's deliveries: the address, the name and any rendered body go.

        Bumps ``outbox_rev``: an attempt that read the delivery before (and is sending it now)
        then loses its guard instead of writing the address back with its outcome."""
        result = await self.bump(
            {"user_id": user_id, "recipient": {"$ne": f"erased:{user_id}"}},
            {"$set": {"recipient": f"erased:{user_id}", "recipient_name": "", "subject": "",
                      "updated_at": utc_now()},
             "$unset": {"context": "", "sealed_context": ""}},
            many=True,
        )
        return int(result.modified_count)

    async def page(self, *, status: str | None, recipient: str | None, after: dict[str, Any],
                   limit: int) -> list[DeliveryDocument]:
        query: dict[str, Any] = dict(after)
        if status:
            query["status"] = status
        if recipient:
            query["recipient"] = recipient
        return await self.typed.find(query, {"context": 0, "sealed_context": 0, "outbox": 0}).sort(
            NEWEST_FIRST.sort).limit(limit).to_list()
