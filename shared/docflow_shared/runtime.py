"""What every service builds in its lifespan: MongoDB, the event bus, the outbox relay, the
token verifier; plus readiness."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.bus import EventBus, Handler
from docflow_shared.events import Event, EventPayload, new_event
from docflow_shared.mongo import Document, create_client, ping
from docflow_shared.outbox import Outbox, OutboxRelay
from docflow_shared.settings import ServiceSettings
from docflow_shared.tokens import AccessTokenVerifier, JWKSCache

logger = logging.getLogger(__name__)


class ServiceRuntime:
    """Clients a service holds for its lifetime, created in ``lifespan``, never at import."""

    def __init__(self, settings: ServiceSettings, *, outbox_collections: Sequence[str] = ()) -> None:
        self.settings = settings
        self.service = settings.service_name
        self.mongo: AsyncMongoClient[Document] = create_client(
            settings.mongodb_url, timeout_ms=settings.mongodb_timeout_ms
        )
        self.db: AsyncDatabase[Document] = self.mongo[settings.database_name]
        self.bus = EventBus(
            amqp_url=settings.amqp_url,
            service=settings.service_name,
            namespace=settings.broker_namespace,
            retry_delays=settings.event_retry_delays,
        )
        self.relay = OutboxRelay(
            self.bus, [self.db[name] for name in outbox_collections],
            poll_seconds=settings.outbox_poll_seconds,
        )
        self.outbox = Outbox(self.relay)
        self.jwks = JWKSCache(settings.jwks_url)
        self.verifier = AccessTokenVerifier(
            self.jwks, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
        self._tasks: list[asyncio.Task[Any]] = []

    def event(self, payload: EventPayload, *, causation_id: str | None = None) -> Event:
        """A new event produced by this service, carrying the current correlation id."""
        return new_event(payload, producer=self.service, causation_id=causation_id)

    def subscribe(self, event_type: str, handler: Handler) -> None:
        self.bus.subscribe(event_type, handler)

    def every(self, seconds: float, work: Callable[[], Awaitable[object]], *, name: str) -> None:
        """Run ``work`` now and then every ``seconds`` until the service stops; a failed pass is
        logged and the next one runs on time. With several replicas, ``work`` must be safe to run
        in each (guarded writes)."""
        self.add_task(asyncio.create_task(_repeat(work, seconds, name), name=name))

    def add_task(self, task: asyncio.Task[Any] | None) -> None:
        if task is not None:
            self._tasks.append(task)

    async def start(self) -> None:
        await self.bus.start()
        self.relay.start()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.relay.stop()
        await self.bus.close()
        await self.jwks.close()
        await self.mongo.close()

    async def readiness(self) -> dict[str, str]:
        database = await ping(self.mongo)
        return {
            "database": "up" if database else "down",
            "broker": "up" if self.bus.connected else "down",
        }


async def _repeat(work: Callable[[], Awaitable[object]], seconds: float, name: str) -> None:
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s pass failed; retrying on the next one", name)
        await asyncio.sleep(seconds)
