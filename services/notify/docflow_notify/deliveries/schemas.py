"""A webhook's deliveries as the API shows them, and their statuses."""

from __future__ import annotations

from enum import StrEnum

from docflow_shared.dueloop import LogEntryRead
from docflow_shared.stored import OptionalStoredTime


class DeliveryStatus(StrEnum):
    PENDING = "pending"      # stored, not tried yet
    SENDING = "sending"      # claimed by a sender
    RETRYING = "retrying"    # failed; tried again at next_attempt_at
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"        # out of time (24 h), refused address, or webhook gone


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.RETRYING)


class DeliveryRead(LogEntryRead):
    open_statuses = OPEN_STATUSES

    webhook_id: str
    status: DeliveryStatus
    last_status_code: int | None = None
    delivered_at: OptionalStoredTime = None
