"""Reads what services publish: a temporary queue bound to the run's exchange."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from docflow_shared.broker import exchange_name
from docflow_shared.events import Event
from docflow_shared.sealed import SecretSealer, secret_context


class EventTap:
    """Collects every event on the exchange (binding ``#``) from the moment it starts. Given the
    mail service's ``sealer``, it opens the secrets sealed in events into their data, as mail
    does (tests read the code); without one it keeps events as they travel."""

    def __init__(self, amqp_url: str, namespace: str, binding: str = "#", sealer: SecretSealer | None = None) -> None:
        self.amqp_url = amqp_url
        self.namespace = namespace
        self.binding = binding
        self.sealer = sealer
        self.events: list[Event] = []
        self._connection: aio_pika.abc.AbstractConnection | None = None

    async def __aenter__(self) -> EventTap:
        self._connection = await aio_pika.connect(self.amqp_url, timeout=15)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            exchange_name(self.namespace), aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=self.binding)
        await queue.consume(self._on_message, no_ack=True)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        event = Event.model_validate_json(message.body)
        if self.sealer is not None and (sealed := event.data.get("sealed")):
            opened = self.sealer.open(sealed, context=secret_context(event.type, str(event.data.get("user_id"))))
            event = event.model_copy(update={"data": {**event.data, **opened}})
        self.events.append(event)

    def of_type(self, event_type: str) -> list[Event]:
        return [e for e in self.events if e.type == event_type]

    async def wait_for(
        self, event_type: str, predicate: Callable[[Event], bool] = lambda e: True, timeout: float = 15.0
    ) -> Event:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event.type == event_type and predicate(event):
                    return event
            await asyncio.sleep(0.05)
        seen = sorted({e.type for e in self.events})
        raise AssertionError(f"no {event_type} event within {timeout}s (seen: {seen})")
