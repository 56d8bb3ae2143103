"""The RabbitMQ event bus: the only module that touches aio-pika.

Topology (DESIGN.md): a durable topic exchange ``docflow.events``; a durable quorum queue
``<service>.events`` per consuming service bound to the types it handles; a direct
dead-letter exchange ``docflow.dlx`` with a ``<service>.dlq`` queue; delayed retries through
``<service>.retry.<n>s`` queues whose TTL dead-letters back into ``<service>.events``.
Every name takes the optional namespace prefix (isolated test runs, several tenants on one
broker).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure

from docflow_shared.events import Event
from docflow_shared.logging import causation_id_var, correlation_id_var

logger = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]

ATTEMPTS_HEADER = "x-docflow-attempts"
ERROR_HEADER = "x-docflow-error"
FAILED_AT_HEADER = "x-docflow-failed-at"
ROUTING_KEY_HEADER = "x-docflow-routing-key"


class BrokerUnavailable(Exception):
    """The broker cannot take a message right now; the caller keeps it and tries later."""


class TransientError(Exception):
    """A dependency of a handler is down; the message is kept and retried, not counted."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (ConnectionFailure, TransientError)


def exchange_name(namespace: str) -> str:
    return f"{namespace}docflow.events"


def dead_letter_exchange_name(namespace: str) -> str:
    return f"{namespace}docflow.dlx"


def queue_name(namespace: str, service: str) -> str:
    return f"{namespace}{service}.events"


def dead_letter_queue_name(namespace: str, service: str) -> str:
    return f"{namespace}{service}.dlq"


def retry_queue_name(namespace: str, service: str, delay: int) -> str:
    return f"{namespace}{service}.retry.{delay}s"


def _as_int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return 0


def persistent_copy(message: AbstractIncomingMessage, headers: dict[str, Any],
                    body: bytes | None = None) -> aio_pika.Message:
    """A received message as a new persistent one (retry, dead-letter, replay), ids kept."""
    return aio_pika.Message(
        body=message.body if body is None else body,
        headers=headers,
        content_type=message.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        type=message.type,
        app_id=message.app_id,
        correlation_id=message.correlation_id,
        timestamp=message.timestamp,
    )


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
    ) -> None:
        self.amqp_url = amqp_url
        self.service = service
        self.namespace = namespace
        self.retry_delays = tuple(retry_delays)
        self.prefetch = prefetch
        self.transient_backoff_max = transient_backoff_max
        self._handlers: dict[str, Handler] = {}
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._consume_channel: AbstractChannel | None = None
        self._dlx: AbstractExchange | None = None
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

    async def publish(self, event: Event) -> None:
        """Publish with a broker confirm; raises BrokerUnavailable when it cannot be confirmed."""
        if not self.connected or self._exchange is None:
            raise BrokerUnavailable("not connected to the broker")
        message = aio_pika.Message(
            body=event.model_dump_json().encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=str(event.id),
            type=event.type,
            app_id=event.producer,
            correlation_id=event.correlation_id,
            timestamp=event.occurred_at,
        )
        try:
            await self._exchange.publish(message, routing_key=event.type, timeout=10)
        except Exception as exc:  # connection lost, channel closed, nack, timeout
            raise BrokerUnavailable(f"publish of {event.type} not confirmed: {exc!r}") from exc

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
        if not self._handlers:
            return
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=self.prefetch)
        exchange = await channel.declare_exchange(
            exchange_name(self.namespace), aio_pika.ExchangeType.TOPIC, durable=True
        )
        dlx = await channel.declare_exchange(
            dead_letter_exchange_name(self.namespace), aio_pika.ExchangeType.DIRECT, durable=True
        )
        dlq = await channel.declare_queue(
            dead_letter_queue_name(self.namespace, self.service),
            durable=True,
            arguments={"x-queue-type": "quorum"},
        )
        await dlq.bind(dlx, routing_key=self.service)
        queue = await channel.declare_queue(
            self.queue,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": dead_letter_exchange_name(self.namespace),
                "x-dead-letter-routing-key": self.service,
            },
        )
        for delay in self.retry_delays:
            await channel.declare_queue(
                retry_queue_name(self.namespace, self.service, delay),
                durable=True,
                arguments={
                    "x-message-ttl": int(delay * 1000),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.queue,
                },
            )
        for event_type in self._handlers:
            await queue.bind(exchange, routing_key=event_type)
        self._consume_channel = channel
        self._dlx = dlx
        await queue.consume(self._on_message)

    # --- consuming ---------------------------------------------------------------------------

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        headers = dict(message.headers or {})
        attempts = _as_int(headers.get(ATTEMPTS_HEADER))
        try:
            event = Event.model_validate_json(message.body)
        except ValidationError as exc:
            await self._dead_letter(message, f"invalid envelope: {exc.errors()[:3]}")
            return
        handler = self._handlers.get(event.type)
        if handler is None:
            await message.ack()
            return
        corr = correlation_id_var.set(event.correlation_id)
        cause = causation_id_var.set(str(event.id))
        try:
            await self._run_handler(handler, event)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await message.nack(requeue=True)
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if attempts < len(self.retry_delays):
                logger.warning("handler for %s failed (attempt %d): %s", event.type, attempts + 1, error)
                await self._retry_later(message, attempts + 1, error)
            else:
                logger.error("handler for %s failed for good: %s", event.type, error)
                await self._dead_letter(message, error, attempts)
        else:
            await message.ack()
        finally:
            correlation_id_var.reset(corr)
            causation_id_var.reset(cause)

    async def _run_handler(self, handler: Handler, event: Event) -> None:
        """Run a handler; while a dependency is down keep the message unacked and try again."""
        backoff = 0.2
        while True:
            try:
                await handler(event)
                return
            except TRANSIENT_ERRORS as exc:
                logger.warning("dependency down while handling %s (%r); retrying", event.type, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.transient_backoff_max)

    async def _republish(self, message: AbstractIncomingMessage, *, exchange: AbstractExchange,
                         routing_key: str, headers: dict[str, Any]) -> None:
        try:
            await exchange.publish(persistent_copy(message, headers), routing_key=routing_key, timeout=10)
        except Exception:
            logger.exception("could not move message %s; it goes back to the queue", message.message_id)
            await message.nack(requeue=True)
            return
        await message.ack()

    async def _retry_later(self, message: AbstractIncomingMessage, attempts: int, error: str) -> None:
        delay = self.retry_delays[attempts - 1]
        headers = {**dict(message.headers or {}), ATTEMPTS_HEADER: attempts, ERROR_HEADER: error,
                   ROUTING_KEY_HEADER: message.routing_key or ""}
        assert self._consume_channel is not None
        await self._republish(
            message, exchange=self._consume_channel.default_exchange,
            routing_key=retry_queue_name(self.namespace, self.service, delay), headers=headers,
        )

    async def _dead_letter(self, message: AbstractIncomingMessage, error: str, attempts: int = 0) -> None:
        headers = {
            **dict(message.headers or {}),
            ATTEMPTS_HEADER: attempts,
            ERROR_HEADER: error[:2000],
            FAILED_AT_HEADER: datetime.now(UTC).isoformat(),
            ROUTING_KEY_HEADER: str(dict(message.headers or {}).get(ROUTING_KEY_HEADER) or message.routing_key or ""),
        }
        assert self._dlx is not None
        await self._republish(message, exchange=self._dlx, routing_key=self.service, headers=headers)
