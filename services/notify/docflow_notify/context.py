"""Everything the notify service wires together in its lifespan, in one place."""

from __future__ import annotations

import aiohttp

from docflow_notify.deliveries.repository import DeliveryRepository
from docflow_notify.deliveries.service import DeliveryService
from docflow_notify.settings import NotifySettings
from docflow_notify.streams.hub import Hub
from docflow_notify.streams.repository import NotificationRepository
from docflow_notify.streams.service import StreamService
from docflow_notify.webhooks.guard import AddressGuard, GuardedResolver
from docflow_notify.webhooks.repository import WebhookRepository
from docflow_notify.webhooks.service import WebhookService
from docflow_shared.dueloop import DueLoop
from docflow_shared.runtime import ContextBase, ServiceRuntime

OUTBOX_COLLECTIONS: tuple[str, ...] = ()


class NotifyContext(ContextBase[NotifySettings]):
    """The replay store, this replica's open streams, the webhooks and the services over them,
    built once per process."""

    def __init__(self, runtime: ServiceRuntime, settings: NotifySettings) -> None:
        super().__init__(runtime, settings)
        self.notifications = NotificationRepository(runtime.db, keep_seconds=settings.replay_seconds * 2)
        self.hub = Hub(queue_size=settings.client_queue_size, revocations=runtime.revocations)
        self.streams = StreamService(repository=self.notifications, hub=self.hub, revocations=runtime.revocations,
                                     replay_seconds=settings.replay_seconds,
                                     heartbeat_seconds=settings.heartbeat_seconds)
        self.guard = AddressGuard(settings.webhook_allowed_networks)
        self.webhook_repository = WebhookRepository(runtime.db)
        self.delivery_repository = DeliveryRepository(runtime.db)
        self.webhooks = WebhookService(repository=self.webhook_repository, guard=self.guard,
                                       max_per_owner=settings.webhook_max_per_owner,
                                       secret_overlap_seconds=settings.webhook_secret_overlap_seconds)
        # every connection resolves through the guard: the address connected to is checked
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
            resolver=GuardedResolver(self.guard), limit=settings.webhook_concurrency * 2))
        self.deliveries = DeliveryService(settings=settings, webhooks=self.webhook_repository,
                                          repository=self.delivery_repository, registry=self.webhooks,
                                          guard=self.guard, http=self.http)
        # the send loop: attempts due deliveries in every replica; a claim makes each attempt one replica's
        self.send_loop = DueLoop(due=lambda limit: self.delivery_repository.due_ids(limit=limit),
                                 attempt=self.deliveries.attempt, name="webhook-send-loop", what="webhook delivery",
                                 poll_seconds=settings.webhook_retry_poll_seconds,
                                 concurrency=settings.webhook_concurrency)
        self.deliveries.wake_sender = self.send_loop.wake

    async def create_indexes(self) -> None:
        await self.notifications.ensure_indexes()
        await self.webhook_repository.ensure_indexes()
        await self.delivery_repository.ensure_indexes()
