"""Deliveries as the admin API shows them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel

from docflow_shared.mongo import stored_datetime

if TYPE_CHECKING:
    from docflow_mail.deliveries.repository import DeliveryDocument


class DeliveryStatus(StrEnum):
    PENDING = "pending"      # stored, not tried yet
    SENDING = "sending"      # claimed by a sender (until claim_until)
    RETRYING = "retrying"    # a transient failure; tried again at next_attempt_at
    SENT = "sent"            # accepted by the SMTP server
    FAILED = "failed"        # refused for good, or out of attempts / time


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.RETRYING)


class DeliveryRead(BaseModel):
    id: str
    event_id: str
    event_type: str
    recipient: str
    template: str
    locale: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None

    @classmethod
    def from_document(cls, doc: DeliveryDocument) -> DeliveryRead:
        return cls(
            id=doc["_id"],
            event_id=doc["event_id"],
            event_type=doc.get("event_type", ""),
            recipient=doc["recipient"],
            template=doc["template"],
            locale=doc.get("locale", "ru"),
            status=DeliveryStatus(doc["status"]),
            attempts=int(doc.get("attempts", 0) or 0),
            last_error=doc.get("last_error"),
            created_at=stored_datetime(doc["created_at"]),
            updated_at=stored_datetime(doc.get("updated_at")),
            next_attempt_at=stored_datetime(doc.get("next_attempt_at")) if doc["status"] in OPEN_STATUSES else None,
            sent_at=stored_datetime(doc.get("sent_at")),
            failed_at=stored_datetime(doc.get("failed_at")),
        )
