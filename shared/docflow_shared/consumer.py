"""Consuming a service's queue (docs/architecture.md, "Reliability rules"): run the handler;
while a dependency is down keep the message and try again; when the handler fails, send the
message to a delayed retry queue, and after the last retry to the dead-letter queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from docflow_shared.broker import (
    ATTEMPTS_HEADER,
    ERROR_HEADER,
    FAILED_AT_HEADER,
    PUBLISHER_HEADER,
    ROUTING_KEY_HEADER,
    TRANSIENT_ERRORS,
    attempts_of,
    original_publisher,
    persistent_copy,
    refusal,
    retry_queue_name,
)
from docflow_shared.events import Event
from docflow_shared.logging import causation_id_var, correlation_id_var
from docflow_shared.metrics import EVENT_HANDLING, EVENTS_CONSUMED
from docflow_shared.tracing import span, traceparent_of

if TYPE_CHECKING:
    from docflow_shared.bus import Handler

logger = logging.getLogger(__name__)


@dataclass(kw_only=True, eq=False)
class Consumer:
    """The message callback of one service's queue, on the channel that consumes it."""

    service: str
    namespace: str
    queue: str
    user: str
    user_prefix: str
    handlers: Mapping[str, Handler]
    retry_delays: Sequence[int]
    transient_backoff_max: float
    channel: AbstractChannel
    dlx: AbstractExchange
    closing: Callable[[], bool]

    def __post_init__(self) -> None:
        self.retry_delays = tuple(self.retry_delays)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        headers = dict(message.headers or {})
        attempts = attempts_of(headers)
        try:
            event = Event.model_validate_json(message.body)
        except ValidationError as exc:
            EVENTS_CONSUMED.labels(self.service, "unknown", "invalid").inc()
            await self._dead_letter(message, f"invalid envelope: {exc.errors()[:3]}")
            return
        handler = self.handlers.get(event.type)
        if handler is None:
            await message.ack()
            return
        if refused := refusal(event, message, user=self.user, user_prefix=self.user_prefix):
            EVENTS_CONSUMED.labels(self.service, event.type, "refused").inc()
            logger.warning("dropped %s %s: %s", event.type, event.id, refused)
            await message.ack()
            return
        corr = correlation_id_var.set(event.correlation_id)
        cause = causation_id_var.set(str(event.id))
        with span(f"{event.type} process", kind=SpanKind.CONSUMER,
                  parent=traceparent_of(headers) or event.traceparent,
                  attributes={"messaging.system": "rabbitmq", "messaging.message.id": str(event.id),
                              "messaging.destination.subscription.name": self.queue}):
            try:
                await self._run_handler(handler, event)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await message.nack(requeue=True)
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:2000]
                if attempts < len(self.retry_delays):
                    EVENTS_CONSUMED.labels(self.service, event.type, "retried").inc()
                    logger.warning("handler for %s failed (attempt %d): %s", event.type, attempts + 1, error)
                    await self._retry_later(message, attempts + 1, error)
                else:
                    EVENTS_CONSUMED.labels(self.service, event.type, "dead_lettered").inc()
                    logger.error("handler for %s failed for good: %s", event.type, error)
                    await self._dead_letter(message, error, attempts)
            else:
                EVENTS_CONSUMED.labels(self.service, event.type, "handled").inc()
                await message.ack()
            finally:
                correlation_id_var.reset(corr)
                causation_id_var.reset(cause)

    async def _run_handler(self, handler: Handler, event: Event) -> None:
        """Run a handler; while a dependency is down keep the message unacked and try again."""
        backoff = 0.2
        while True:
            started = time.perf_counter()
            try:
                try:
                    await handler(event)
                finally:
                    EVENT_HANDLING.labels(self.service, event.type).observe(time.perf_counter() - started)
                return
            except TRANSIENT_ERRORS as exc:
                if self.closing():  # stopping: the message goes back to the queue unacked
                    raise asyncio.CancelledError from exc
                logger.warning("dependency down while handling %s (%r); retrying", event.type, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.transient_backoff_max)

    async def _republish(self, message: AbstractIncomingMessage, *, exchange: AbstractExchange,
                         routing_key: str, headers: dict[str, Any]) -> None:
        try:
            copy = persistent_copy(message, {**headers, PUBLISHER_HEADER: original_publisher(message, {self.user})},
                                   user_id=self.user)
            await exchange.publish(copy, routing_key=routing_key, timeout=10)
        except Exception:
            logger.exception("could not move message %s; it goes back to the queue", message.message_id)
            await message.nack(requeue=True)
            return
        await message.ack()

    async def _retry_later(self, message: AbstractIncomingMessage, attempts: int, error: str) -> None:
        delay = self.retry_delays[attempts - 1]
        headers = {**dict(message.headers or {}), ATTEMPTS_HEADER: attempts, ERROR_HEADER: error,
                   ROUTING_KEY_HEADER: message.routing_key or ""}
        await self._republish(
            message, exchange=self.channel.default_exchange,
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
        await self._republish(message, exchange=self.dlx, routing_key=self.service, headers=headers)
