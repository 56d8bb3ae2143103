"""Deliveries as the admin API shows them."""

from __future__ import annotations

from enum import StrEnum

from docflow_shared.dueloop import LogEntryRead
from docflow_shared.stored import OptionalStoredTime


class DeliveryStatus(StrEnum):
    PENDING = "pending"      # stored, not tried yet
    SENDING = "sending"      # claimed by a sender (until claim_until)
    RETRYING = "retrying"    # a transient failure; tried again at next_attempt_at
    SENT = "sent"            # accepted by the SMTP server
    FAILED = "failed"        # refused for good, or out of attempts / time


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.RETRYING)


class DeliveryRead(LogEntryRead):
    open_statuses = OPEN_STATUSES

    recipient: str
    template: str
    locale: str = "ru"
    status: DeliveryStatus
    updated_at: OptionalStoredTime = None
    sent_at: OptionalStoredTime = None
