"""Events of mail: ``mail.*`` (catalogue v1)."""

from __future__ import annotations

from docflow_shared.events.envelope import EventPayload


class MailSent(EventPayload):
    TYPE = "mail.sent"
    delivery_id: str
    event_id: str
    recipient: str
    template: str


class MailFailed(EventPayload):
    """Added field: ``user_id``, the account the e-mail was for (notify tells that user)."""

    TYPE = "mail.failed"
    delivery_id: str
    event_id: str
    recipient: str
    template: str
    error: str
    user_id: str | None = None
