"""What the mail service consumes: every event type of the rule table, and user erasure."""

from __future__ import annotations

from typing import Any

from docflow_mail.context import MailContext
from docflow_mail.deliveries.rules import RULES, MailRule
from docflow_mail.deliveries.service import DeliveryService
from docflow_shared.bus import Handler
from docflow_shared.events import Event
from docflow_shared.events.catalogue import UserDeleted


def handler_for(service: DeliveryService, rule: MailRule[Any]) -> Handler:
    async def handle(event: Event) -> None:
        # stored first (MongoDB down → raises, the message stays unacked and is retried);
        # then sent at once; SMTP trouble is the retry loop's business, not the broker's
        for delivery in await service.accept(event, rule):
            await service.send(delivery)

    handle.__name__ = f"mail_{rule.template}"
    return handle


def subscriptions(ctx: MailContext) -> dict[str, Handler]:
    handlers = {rule.event_type: handler_for(ctx.deliveries, rule) for rule in RULES}
    handlers[UserDeleted.TYPE] = ctx.deliveries.erase_user
    return handlers
