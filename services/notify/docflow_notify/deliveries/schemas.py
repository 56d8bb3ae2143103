"""A webhook's deliveries as the API shows them, and their statuses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel

from docflow_shared.mongo import stored_datetime

if TYPE_CHECKING:
    from docflow_notify.deliveries.repository import WebhookDeliveryDocument


class DeliveryStatus(StrEnum):
    PENDING = "pending"      # stored, not tried yet
    SENDING = "sending"      # claimed by a sender
    RETRYING = "retrying"    # failed; tried again at next_attempt_at
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"        # out of time (24 h), refused address, or webhook gone


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.RETRYING)


class DeliveryRead(BaseModel):
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None

    @classmethod
    def from_document(cls, doc: WebhookDeliveryDocument) -> DeliveryRead:
        status = DeliveryStatus(doc["status"])
        return cls(id=doc["_id"], webhook_id=doc["webhook_id"], event_id=doc["event_id"],
                   event_type=doc["event_type"], status=status, attempts=int(doc.get("attempts", 0)),
                   last_status_code=doc.get("last_status_code"), last_error=doc.get("last_error"),
                   created_at=stored_datetime(doc["created_at"]) or doc["created_at"],
                   next_attempt_at=stored_datetime(doc.get("next_attempt_at")) if status in OPEN_STATUSES else None,
                   delivered_at=stored_datetime(doc.get("delivered_at")),
                   failed_at=stored_datetime(doc.get("failed_at")))
