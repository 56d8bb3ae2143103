"""What the mail service publishes: mail.sent and mail.failed, through the deliveries outbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from docflow_shared.events import Event
from docflow_shared.events.catalogue import MailFailed, MailSent
from docflow_shared.runtime import ServiceRuntime


def mail_sent(runtime: ServiceRuntime, delivery: Mapping[str, Any]) -> Event:
    return runtime.event(
        MailSent(delivery_id=delivery["_id"], event_id=delivery["event_id"],
                 recipient=delivery["recipient"], template=delivery["template"]),
        causation_id=delivery["event_id"],
    )


def mail_failed(runtime: ServiceRuntime, delivery: Mapping[str, Any], error: str) -> Event:
    return runtime.event(
        MailFailed(delivery_id=delivery["_id"], event_id=delivery["event_id"],
                   recipient=delivery["recipient"], template=delivery["template"], error=error[:500],
                   user_id=delivery.get("user_id")),
        causation_id=delivery["event_id"],
    )
