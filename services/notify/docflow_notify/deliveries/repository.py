"""The only code that touches ``webhook_deliveries``: the delivery log, one per (event, webhook)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from docflow_notify.deliveries.schemas import OPEN_STATUSES, DeliveryStatus
from docflow_shared.dueloop import DeliveryLog, LogEntry
from docflow_shared.mongo import Document
from docflow_shared.pagination import NEWEST_FIRST

COLLECTION = "webhook_deliveries"


class WebhookDeliveryDocument(LogEntry, total=False):
    webhook_id: str
    owner_id: str
    body: str  # the notification as posted (JSON), signed again on every attempt
    traceparent: str | None  # the trace every attempt joins
    last_status_code: int | None
    delivered_at: datetime


class DeliveryRepository(DeliveryLog[WebhookDeliveryDocument]):
    """The delivery log the send loop runs over (``DeliveryLog``, as mail's deliveries)."""

    open_statuses = tuple(status.value for status in OPEN_STATUSES)
    pending = DeliveryStatus.PENDING.value
    sending = DeliveryStatus.SENDING.value

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db[COLLECTION], name="webhook-delivery")

    async def ensure_indexes(self) -> None:
        await self.guard_older()  # deliveries stored before notify's log had the guard
        await self.prepare(
            IndexModel([("event_id", ASCENDING), ("webhook_id", ASCENDING)], unique=True,
                       name="one_delivery_per_event_and_webhook"),
            IndexModel([("webhook_id", ASCENDING)], name="by_webhook"),
        )

    async def page(self, *, webhook_id: str, after: dict[str, Any], limit: int) -> list[WebhookDeliveryDocument]:
        return await self.typed.find({"webhook_id": webhook_id, **after}, {"body": 0}).sort(
            NEWEST_FIRST.sort).limit(limit).to_list()
