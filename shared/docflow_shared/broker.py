"""The broker's vocabulary (docs/architecture.md, "Broker topology"): exchange and queue names,
the headers DocFlow adds, who published a message, how a message is copied, and the queues a
consuming service declares. ``docflow_shared.bus.EventBus`` uses it; the DLQ tool and the broker
users' permissions name the same things.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlparse

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage, AbstractQueue
from pymongo.errors import ConnectionFailure

from docflow_shared.events import Event
from docflow_shared.events.producers import producer_of
from docflow_shared.tracing import TRACEPARENT

ATTEMPTS_HEADER = "x-docflow-attempts"
ERROR_HEADER = "x-docflow-error"
FAILED_AT_HEADER = "x-docflow-failed-at"
ROUTING_KEY_HEADER = "x-docflow-routing-key"
# the broker user that first published a message a service moved itself (retry, DLQ, replay)
PUBLISHER_HEADER = "x-docflow-publisher"


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


def broker_user(amqp_url: str) -> str:
    """The user name a connection to ``amqp_url`` authenticates as (RabbitMQ's default: guest)."""
    return unquote(urlparse(amqp_url).username or "guest")


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def attempts_of(headers: Mapping[str, Any]) -> int:
    """How many times a message has been handled and failed, from its attempts header."""
    value = headers.get(ATTEMPTS_HEADER)
    try:
        return int(value) if isinstance(value, int | str | bytes) else 0
    except ValueError:
        return 0


def original_publisher(message: AbstractIncomingMessage, movers: Collection[str]) -> str:
    """The broker user that published ``message`` first: its ``user_id``, unless one of
    ``movers`` (the consuming service itself, an operator's DLQ tool) moved it and recorded the
    first publisher in a header. Only the movers' word is taken: the broker lets no one else
    publish with their ``user_id``."""
    sender = _text(message.user_id)
    if sender and sender in movers:
        return _text(dict(message.headers or {}).get(PUBLISHER_HEADER)) or sender
    return sender


def persistent_copy(message: AbstractIncomingMessage, headers: dict[str, Any],
                    body: bytes | None = None, *, user_id: str | None = None) -> aio_pika.Message:
    """A received message as a new persistent one (retry, dead-letter, replay), ids kept;
    ``user_id`` is the user of the connection that publishes the copy."""
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
        user_id=user_id,
    )


def event_message(event: Event, *, traceparent: str | None, user_id: str) -> aio_pika.Message:
    """The persistent message that carries ``event``, routed by its type."""
    return aio_pika.Message(
        body=event.model_dump_json().encode(),
        headers={TRACEPARENT: traceparent} if traceparent else None,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=str(event.id),
        type=event.type,
        app_id=event.producer,
        correlation_id=event.correlation_id,
        timestamp=event.occurred_at,
        user_id=user_id,
    )


async def declare_service_queues(channel: AbstractChannel, *, namespace: str, service: str,
                                 retry_delays: Sequence[int],
                                 event_types: Iterable[str]) -> tuple[AbstractQueue, AbstractExchange]:
    """A consuming service's queue bound to ``event_types``, its delayed retry queues and its
    dead-letter queue; returns the queue and the dead-letter exchange."""
    exchange = await channel.declare_exchange(exchange_name(namespace), aio_pika.ExchangeType.TOPIC, durable=True)
    dlx = await channel.declare_exchange(
        dead_letter_exchange_name(namespace), aio_pika.ExchangeType.DIRECT, durable=True
    )
    dlq = await channel.declare_queue(
        dead_letter_queue_name(namespace, service), durable=True, arguments={"x-queue-type": "quorum"},
    )
    await dlq.bind(dlx, routing_key=service)
    queue = await channel.declare_queue(
        queue_name(namespace, service),
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": dead_letter_exchange_name(namespace),
            "x-dead-letter-routing-key": service,
        },
    )
    for delay in retry_delays:
        await channel.declare_queue(
            retry_queue_name(namespace, service, delay),
            durable=True,
            arguments={
                "x-message-ttl": int(delay * 1000),
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": queue_name(namespace, service),
            },
        )
    for event_type in event_types:
        await queue.bind(exchange, routing_key=event_type)
    return queue, dlx


def refusal(event: Event, message: AbstractIncomingMessage, *, user: str, user_prefix: str) -> str | None:
    """Why ``event`` must not be acted on (its type is not its publisher's), or None. With
    per-service broker users (``user_prefix``) the broker's word on who published counts;
    ``user`` is the consumer's own, which may have moved the message (retry, DLQ)."""
    owner = producer_of(event.type)
    if owner is None or event.producer != owner:
        return f"the envelope names {event.producer!r} as producer; {event.type} belongs to {owner!r}"
    if user_prefix:
        publisher = original_publisher(message, {user})
        if publisher != f"{user_prefix}{owner}":
            return f"published by broker user {publisher or 'unknown'!r}, not by {owner}'s"
    return None
