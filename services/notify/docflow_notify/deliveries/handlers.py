"""What the webhooks consume, on notify's durable queue (each event handled by one replica):
every type a webhook may subscribe to. Deliveries are stored first (MongoDB down: the event is
retried), then sent at once; a receiver's trouble is the send loop's business, not the
broker's."""

from __future__ import annotations

import asyncio

from docflow_notify.context import NotifyContext
from docflow_notify.deliveries.service import DeliveryService
from docflow_notify.webhooks.schemas import WEBHOOK_TYPES
from docflow_shared.bus import Handler
from docflow_shared.events import Event


def handler_for(service: DeliveryService) -> Handler:
    async def deliver(event: Event) -> None:
        stored = await service.accept(event)
        await asyncio.gather(*(service.send(delivery, webhook) for delivery, webhook in stored))

    return deliver


def subscriptions(ctx: NotifyContext) -> dict[str, Handler]:
    deliver = handler_for(ctx.deliveries)
    return {event_type: deliver for event_type in WEBHOOK_TYPES}
