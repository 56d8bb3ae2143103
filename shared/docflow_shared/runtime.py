"""What every service builds in its lifespan: MongoDB, the event bus, the outbox relay, the
token verifier; plus readiness."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import cached_property
from typing import Any, Generic, Protocol, TypeVar

from fastapi import FastAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared import tracing
from docflow_shared.bus import EventBus, Handler
from docflow_shared.events import Event, EventPayload, new_event
from docflow_shared.metrics import MetricsServer
from docflow_shared.mongo import Document, ProcessedEvents, create_client, ensure_indexes_forever, ping
from docflow_shared.outbox import Outbox
from docflow_shared.relay import OutboxRelay
from docflow_shared.revocations import REVOCATION_EVENTS, RevocationList
from docflow_shared.settings import ServiceSettings
from docflow_shared.tasks import cancel_and_wait, within
from docflow_shared.tokens import AccessTokenVerifier, JWKSCache

logger = logging.getLogger(__name__)

# uvicorn runs with --timeout-graceful-shutdown 5: open requests get up to that, and stop() its own
# budget, split between the steps below, so that a service exits in time whatever is down.
STOP_SECONDS = 4.0


class ServiceContext(Protocol):
    """What ``ServiceRuntime.serving`` needs of a service's composition root."""

    async def create_indexes(self) -> None: ...


S = TypeVar("S", bound=ServiceSettings)


class ContextBase(Generic[S]):
    """Base of every service's composition root (``<Service>Context``, docs/architecture.md,
    "One shape for every service"): the runtime and settings it was built from, and
    ``processed``, the record of the events this service handled (built when first asked for)."""

    def __init__(self, runtime: ServiceRuntime, settings: S) -> None:
        self.runtime = runtime
        self.settings = settings

    @cached_property
    def processed(self) -> ProcessedEvents:
        return self.runtime.processed_events(self.settings.service_name)


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
            user_prefix=settings.broker_user_prefix,
        )
        self.relay = OutboxRelay(
            self.bus, [self.db[name] for name in outbox_collections],
            poll_seconds=settings.outbox_poll_seconds,
            backlog_seconds=settings.metrics_poll_seconds if settings.metrics_port else None,
        )
        self.metrics = MetricsServer(settings.metrics_port, settings.metrics_host)
        self.outbox = Outbox(self.relay)
        self.jwks = JWKSCache(settings.jwks_url)
        self.revocations = RevocationList(ttl=settings.access_token_lifetime)
        self.bus.subscribe_broadcast(REVOCATION_EVENTS, self.revocations.apply)
        self.verifier = AccessTokenVerifier(
            self.jwks, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
            revocations=self.revocations,
        )
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopping = asyncio.Event()

    def event(self, payload: EventPayload, *, causation_id: str | None = None) -> Event:
        """A new event produced by this service, carrying the current correlation id."""
        return new_event(payload, producer=self.service, causation_id=causation_id)

    def processed_events(self, consumer: str) -> ProcessedEvents:
        """The record of events ``consumer`` handled, expiring as configured (its index is created
        with the service's other indexes)."""
        return ProcessedEvents(self.db, consumer, ttl_seconds=self.settings.processed_events_ttl_seconds)

    def subscribe(self, event_type: str, handler: Handler) -> None:
        self.bus.subscribe(event_type, handler)

    def subscribe_all(self, handlers: Mapping[str, Handler]) -> None:
        """Register a domain's ``subscriptions(ctx)``: every service registers its handlers this way."""
        for event_type, handler in handlers.items():
            self.subscribe(event_type, handler)

    def every(self, seconds: float, work: Callable[[], Awaitable[object]], *, name: str) -> None:
        """Run ``work`` now and then every ``seconds`` until the service stops; a failed pass is
        logged and the next one runs on time. With several replicas, ``work`` must be safe to run
        in each (guarded writes)."""
        self.add_task(asyncio.create_task(_repeat(work, seconds, name, self._stopping), name=name))

    def add_task(self, task: asyncio.Task[Any] | None) -> None:
        if task is not None:
            self._tasks.append(task)

    async def start(self) -> None:
        self.metrics.start()
        await self.bus.start()
        self.relay.start()
        if self.settings.metrics_port:
            self.every(self.settings.metrics_poll_seconds, self.bus.measure_queues, name="queue-depths")

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop background work, the broker, JWKS and MongoDB clients, the metrics server and the
        trace export within ``timeout`` seconds, whatever is down: each step has its share; what
        overruns it is logged and left."""
        self._stopping.set()
        step = timeout / 5
        await cancel_and_wait(self._tasks, step)
        await within(step, self.relay.stop(), "outbox relay")
        await within(step, self.bus.close(), "broker connection")
        await within(step / 2, self.jwks.close(), "JWKS client")
        await within(step / 2, self.mongo.close(), "MongoDB client")
        await within(step / 2, asyncio.to_thread(self.metrics.stop), "metrics server")
        await within(step / 2, asyncio.to_thread(tracing.flush, int(step * 500)), "trace export")

    @asynccontextmanager
    async def serving(self, app: FastAPI, ctx: ServiceContext,
                      *subscriptions: Mapping[str, Handler]) -> AsyncIterator[None]:
        """The part of a lifespan every service shares: the runtime and ``ctx`` on ``app.state``
        (where ``get_context`` finds it), indexes (created in the background while the database
        is down), each domain's ``subscriptions(ctx)``, the broker and the relay started; all of
        it stopped when the block ends. The service's own periodic work starts inside the block."""
        app.state.runtime = self
        app.state.context = ctx
        self.add_task(await ensure_indexes_forever(ctx.create_indexes))
        for handlers in subscriptions:
            self.subscribe_all(handlers)
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def readiness(self) -> dict[str, str]:
        database = await ping(self.mongo)
        return {
            "database": "up" if database else "down",
            "broker": "up" if self.bus.connected else "down",
        }


async def _repeat(work: Callable[[], Awaitable[object]], seconds: float, name: str,
                  stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s pass failed; retrying on the next one", name)
        await asyncio.sleep(seconds)
