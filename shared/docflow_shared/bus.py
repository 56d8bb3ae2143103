"""The RabbitMQ event bus: connects, declares, publishes with confirms and hands each message of
the service's queue to ``docflow_shared.consumer``; with ``docflow_shared.broker`` (names,
headers, copies) the only code that touches aio-pika.

Topology (docs/architecture.md, "Broker topology"): a durable topic exchange ``docflow.events``; a durable quorum queue
``<service>.events`` per consuming service bound to the types it handles; a direct
dead-letter exchange ``docflow.dlx`` with a ``<service>.dlq`` queue; delayed retries through
``<service>.retry.<n>s`` queues whose TTL dead-letters back into ``<service>.events``.
Every name takes the optional namespace prefix (isolated test runs, several tenants on one
broker).

Who sent a message is the broker's word, not the message's: every message carries the AMQP
``user_id`` of the connection that published it (RabbitMQ refuses any other value). With
per-service broker users (``user_prefix``), a consumer acts only on an event whose publishing
user is the broker user of the service that owns its type (docs/architecture.md, "Who may
publish what"); anything else is dropped with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)
from opentelemetry.trace import SpanKind

from docflow_shared.broker import (
    BrokerUnavailable,
    broker_user,
    dead_letter_queue_name,
    declare_service_queues,
    event_message,
    exchange_name,
    queue_name,
    refusal,
    retry_queue_name,
)
from docflow_shared.consumer import Consumer
from docflow_shared.events import Event
from docflow_shared.metrics import (
    EVENT_PUBLISH_FAILURES,
    EVENTS_PUBLISHED,
    QUEUE_MESSAGES,
)
from docflow_shared.tracing import current_traceparent, span

logger = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]






class EventBus:
    """Publishes events with confirms and consumes a service's queue with retries and a DLQ."""

    def __init__(
        self,
        *,
        amqp_url: str,
        service: str,
        namespace: str = "",
        retry_delays: Sequence[int] = (1, 10, 60),
        prefetch: int = 32,
        transient_backoff_max: float = 10.0,
        user_prefix: str = "",
    ) -> None:
        self.amqp_url = amqp_url
        self.service = service
        self.user = broker_user(amqp_url)
        # per-service broker users "<prefix><service>": consumers check who published
        self.user_prefix = user_prefix
        self.namespace = namespace
        self.retry_delays = tuple(retry_delays)
        self.prefetch = prefetch
        self.transient_backoff_max = transient_backoff_max
        self._handlers: dict[str, Handler] = {}
        self._broadcast: dict[str, Handler] = {}
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def queue(self) -> str:
        return queue_name(self.namespace, self.service)

    def subscribe(self, event_type: str, handler: Handler) -> None:
        """Route one event type to a handler; declared when the bus connects."""
        if self._ready.is_set():
            raise RuntimeError("subscribe before start()")
        self._handlers[event_type] = handler

    def subscribe_broadcast(self, event_types: Sequence[str], handler: Handler) -> None:
        """Every replica gets these events, on an exclusive queue of its own that lives as long
        as its connection (state held in memory, e.g. the revocation list). No retries: a
        handler that fails logs and drops the message."""
        if self._ready.is_set():
            raise RuntimeError("subscribe before start()")
        for event_type in event_types:
            self._broadcast[event_type] = handler

    async def start(self) -> None:
        """Connect in the background: a service starts and serves even while the broker is down."""
        self._task = asyncio.create_task(self._connect_forever(), name=f"{self.service}-bus-connect")

    async def wait_ready(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
        return self.connected

    @property
    def connected(self) -> bool:
        conn = self._connection
        if conn is None or conn.is_closed or not self._ready.is_set():
            return False
        flag = getattr(conn, "connected", None)
        return bool(flag.is_set()) if isinstance(flag, asyncio.Event) else True

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()

    async def publish(self, event: Event, *, timeout: float = 10) -> None:
        """Publish with a broker confirm; raises BrokerUnavailable when it cannot be confirmed.

        The message carries a W3C ``traceparent`` header: a publish span's, child of the
        context the event was produced in, while tracing is on; else the envelope's own."""
        if not self.connected or self._exchange is None:
            EVENT_PUBLISH_FAILURES.labels(self.service, event.type).inc()
            raise BrokerUnavailable("not connected to the broker")
        with span(f"{event.type} publish", kind=SpanKind.PRODUCER, parent=event.traceparent,
                  attributes={"messaging.system": "rabbitmq", "messaging.message.id": str(event.id)}) as current:
            traceparent = current_traceparent() if current is not None else event.traceparent
            message = event_message(event, traceparent=traceparent, user_id=self.user)
            try:
                await self._exchange.publish(message, routing_key=event.type, timeout=timeout)
            except Exception as exc:  # connection lost, channel closed, nack, timeout
                EVENT_PUBLISH_FAILURES.labels(self.service, event.type).inc()
                raise BrokerUnavailable(f"publish of {event.type} not confirmed: {exc!r}") from exc
        EVENTS_PUBLISHED.labels(self.service, event.type).inc()

    async def measure_queues(self) -> None:
        """Messages waiting in this service's queue, its retry queues and its DLQ, for the
        metrics: a passive declare on a channel of its own (a missing queue closes only that)."""
        if not self._handlers or not self.connected or self._connection is None:
            return
        retries = [retry_queue_name(self.namespace, self.service, delay) for delay in self.retry_delays]
        async with self._connection.channel() as channel:
            counts = {}
            for kind, names in (("events", [self.queue]), ("retry", retries),
                                ("dlq", [dead_letter_queue_name(self.namespace, self.service)])):
                total = 0
                for name in names:
                    queue = await channel.declare_queue(name, passive=True)
                    total += queue.declaration_result.message_count or 0
                counts[kind] = total
        for kind, total in counts.items():
            QUEUE_MESSAGES.labels(self.service, kind).set(total)

    # --- connection and topology -------------------------------------------------------------

    async def _connect_forever(self) -> None:
        delay = 0.2
        while not self._closing:
            try:
                self._connection = await aio_pika.connect_robust(
                    self.amqp_url, timeout=5, client_properties={"connection_name": self.service}
                )
                await self._declare(self._connection)
                self._ready.set()
                logger.info("connected to the broker", extra={"extra_fields": {"queue": self.queue}})
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("broker not reachable (%r); retrying in %.1fs", exc, delay)
                if self._connection is not None:
                    with contextlib.suppress(Exception):
                        await self._connection.close()
                    self._connection = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _declare(self, connection: AbstractRobustConnection) -> None:
        self._publish_channel = await connection.channel(publisher_confirms=True)
        self._exchange = await self._publish_channel.declare_exchange(
            exchange_name(self.namespace), aio_pika.ExchangeType.TOPIC, durable=True
        )
        if self._broadcast:
            await self._declare_broadcast(connection)
        if not self._handlers:
            return
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=self.prefetch)
        queue, dlx = await declare_service_queues(channel, namespace=self.namespace, service=self.service,
                                                  retry_delays=self.retry_delays, event_types=self._handlers)
        consumer = Consumer(service=self.service, namespace=self.namespace, queue=self.queue, user=self.user,
                            user_prefix=self.user_prefix, handlers=self._handlers, retry_delays=self.retry_delays,
                            transient_backoff_max=self.transient_backoff_max, channel=channel, dlx=dlx,
                            closing=lambda: self._closing)
        await queue.consume(consumer.on_message)

    async def _declare_broadcast(self, connection: AbstractRobustConnection) -> None:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            exchange_name(self.namespace), aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(
            f"{self.namespace}{self.service}.replica.{uuid.uuid4().hex}", exclusive=True, auto_delete=True,
        )
        for event_type in self._broadcast:
            await queue.bind(exchange, routing_key=event_type)
        await queue.consume(self._on_broadcast, no_ack=True)

    async def _on_broadcast(self, message: AbstractIncomingMessage) -> None:
        try:
            event = Event.model_validate_json(message.body)
            handler = self._broadcast.get(event.type)
            if handler is None:
                return
            if refused := refusal(event, message, user=self.user, user_prefix=self.user_prefix):
                logger.warning("dropped %s %s: %s", event.type, event.id, refused)
                return
            await handler(event)
        except Exception:
            logger.exception("broadcast event %s dropped", message.message_id)
