"""The event bus against the real RabbitMQ: delivery, retries, the DLQ, idempotency."""

from __future__ import annotations

import asyncio

import aio_pika
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.broker import ERROR_HEADER, broker_user, dead_letter_queue_name, exchange_name
from docflow_shared.bus import EventBus
from docflow_shared.events import Event
from docflow_shared.events.catalogue import UserEmailVerified
from docflow_shared.events.envelope import new_event
from docflow_shared.mongo import Document, ProcessedEvents


def verified(user: str) -> Event:
    return new_event(UserEmailVerified(user_id=user, email=f"{user}@example.com"), producer="auth")


async def started(bus: EventBus) -> EventBus:
    await bus.start()
    assert await bus.wait_ready(15)
    return bus


async def wait_until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


class TestDelivery:
    async def test_published_event_reaches_the_subscribed_handler(self, amqp_url: str, namespace: str) -> None:
        received: list[Event] = []

        async def handle(event: Event) -> None:
            received.append(event)

        consumer = EventBus(amqp_url=amqp_url, service="consumer", namespace=namespace, retry_delays=(1,))
        consumer.subscribe(UserEmailVerified.TYPE, handle)
        producer = EventBus(amqp_url=amqp_url, service="producer", namespace=namespace)
        await started(consumer)
        await started(producer)
        try:
            event = verified("u1")
            await producer.publish(event)
            await wait_until(lambda: len(received) == 1)
            assert received[0].id == event.id
            assert received[0].payload(UserEmailVerified).user_id == "u1"
        finally:
            await producer.close()
            await consumer.close()


class TestWhoPublished:
    async def test_an_event_whose_envelope_names_another_producer_is_dropped(
        self, amqp_url: str, namespace: str
    ) -> None:
        received: list[Event] = []

        async def handle(event: Event) -> None:
            received.append(event)

        consumer = EventBus(amqp_url=amqp_url, service="consumer", namespace=namespace, retry_delays=(1,))
        consumer.subscribe(UserEmailVerified.TYPE, handle)
        producer = EventBus(amqp_url=amqp_url, service="producer", namespace=namespace)
        await started(consumer)
        await started(producer)
        try:
            forged = new_event(UserEmailVerified(user_id="forged", email="f@example.com"), producer="documents")
            await producer.publish(forged)
            await producer.publish(verified("genuine"))
            await wait_until(lambda: len(received) == 1)
            await asyncio.sleep(0.3)
            assert [e.payload(UserEmailVerified).user_id for e in received] == ["genuine"]
        finally:
            await producer.close()
            await consumer.close()

    async def test_every_message_carries_the_publishing_broker_user(self, amqp_url: str, namespace: str) -> None:
        producer = EventBus(amqp_url=amqp_url, service="producer", namespace=namespace)
        await started(producer)
        connection = await aio_pika.connect(amqp_url)
        try:
            async with connection:
                channel = await connection.channel()
                exchange = await channel.declare_exchange(exchange_name(namespace), aio_pika.ExchangeType.TOPIC,
                                                          durable=True)
                queue = await channel.declare_queue(exclusive=True)
                await queue.bind(exchange, routing_key="#")
                await producer.publish(verified("u"))
                message = await queue.get(timeout=5)
                assert message.user_id == broker_user(amqp_url)
        finally:
            await producer.close()


class TestFailures:
    async def test_failing_handler_is_retried_then_dead_lettered_with_the_error(
        self, amqp_url: str, namespace: str
    ) -> None:
        attempts: list[int] = []
        healthy: list[Event] = []

        async def handle(event: Event) -> None:
            if event.payload(UserEmailVerified).user_id == "poison":
                attempts.append(1)
                raise ValueError("cannot handle this one")
            healthy.append(event)

        bus = EventBus(amqp_url=amqp_url, service="svc", namespace=namespace, retry_delays=(1, 1))
        bus.subscribe(UserEmailVerified.TYPE, handle)
        await started(bus)
        try:
            await bus.publish(verified("poison"))
            await bus.publish(verified("fine"))
            await wait_until(lambda: len(healthy) == 1, 5)
            await wait_until(lambda: len(attempts) == 3, 15)
            connection = await aio_pika.connect(amqp_url)
            async with connection:
                channel = await connection.channel()
                dlq = await channel.declare_queue(dead_letter_queue_name(namespace, "svc"), passive=True)
                message = None
                for _ in range(50):
                    message = await dlq.get(fail=False)
                    if message is not None:
                        break
                    await asyncio.sleep(0.1)
                assert message is not None
                assert "cannot handle this one" in str(message.headers[ERROR_HEADER])
                assert Event.model_validate_json(message.body).payload(UserEmailVerified).user_id == "poison"
                await message.ack()
            assert len(attempts) == 3
        finally:
            await bus.close()


class TestIdempotency:
    async def test_same_event_twice_runs_the_work_once(self, db: AsyncDatabase[Document]) -> None:
        processed = ProcessedEvents(db, "test")
        runs: list[int] = []

        async def work() -> None:
            runs.append(1)

        event = verified("u2")
        assert await processed.run_once(event, work) is True
        assert await processed.run_once(event, work) is False
        assert runs == [1]
