"""EventBus publish → consume → ack for a no-op consumer, against a bare aio-pika pair.

Both sides do the same work per message: a persistent message published to a topic exchange
with a publisher confirm, routed to a durable quorum queue, consumed with the same prefetch
and acked. Rounds alternate between the two so that both see the same machine.
Targets (issue 3): EventBus ≥ 0.7× the bare pair and ≥ 1,000 events/s.
Run: python -m bench.event_bus [--events 5000] [--rounds 4] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from bench.figures import compared_rates
from bench.stack import options, save
from docflow_dev.localservers import ensure_rabbitmq
from docflow_shared.broker import exchange_name, queue_name
from docflow_shared.bus import EventBus
from docflow_shared.events import Event, new_event
from docflow_shared.events.catalogue import UserEmailVerified

PREFETCH = 32  # the EventBus default, used for both sides


def events(n: int) -> list[Event]:
    return [new_event(UserEmailVerified(user_id=f"u{i}", email=f"u{i}@example.kz"), producer="auth")
            for i in range(n)]


T = TypeVar("T")

async def publish_all(publish: Callable[[T], Awaitable[object]], items: list[T], concurrency: int) -> None:
    """``concurrency`` publishers, each waiting for its broker confirm before the next message."""
    iterator = iter(items)

    async def worker() -> None:
        for item in iterator:
            await publish(item)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def bare_round(amqp_url: str, n: int, concurrency: int) -> float:
    namespace = f"bench{uuid.uuid4().hex[:6]}."
    done = asyncio.Event()
    count = 0
    connection = await aio_pika.connect_robust(amqp_url)
    async with connection:
        publish_channel = await connection.channel(publisher_confirms=True)
        exchange = await publish_channel.declare_exchange(exchange_name(namespace), aio_pika.ExchangeType.TOPIC,
                                                          durable=True)
        consume_channel = await connection.channel()
        await consume_channel.set_qos(prefetch_count=PREFETCH)
        queue = await consume_channel.declare_queue(queue_name(namespace, "bare"), durable=True,
                                                    arguments={"x-queue-type": "quorum"})
        await queue.bind(exchange_name(namespace), routing_key=UserEmailVerified.TYPE)

        async def on_message(message: AbstractIncomingMessage) -> None:
            nonlocal count
            Event.model_validate_json(message.body)  # the same decoding the bus does
            await message.ack()
            count += 1
            if count >= n:
                done.set()

        tag = await queue.consume(on_message)
        batch = events(n)

        async def publish(event: Event) -> None:  # the same encoding the bus does
            await exchange.publish(aio_pika.Message(body=event.model_dump_json().encode(),
                                                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                                    content_type="application/json", message_id=str(event.id),
                                                    type=event.type),
                                   routing_key=event.type, timeout=10)

        started = time.perf_counter()
        await publish_all(publish, batch, concurrency)
        await asyncio.wait_for(done.wait(), 120)
        elapsed = time.perf_counter() - started
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
        await publish_channel.exchange_delete(exchange_name(namespace))
    return n / elapsed


async def bus_round(amqp_url: str, n: int, concurrency: int) -> float:
    namespace = f"bench{uuid.uuid4().hex[:6]}."
    done = asyncio.Event()
    count = 0

    async def no_op(event: Event) -> None:
        nonlocal count
        count += 1
        if count >= n:
            done.set()

    consumer = EventBus(amqp_url=amqp_url, service="bench", namespace=namespace, retry_delays=(1,),
                        prefetch=PREFETCH)
    consumer.subscribe(UserEmailVerified.TYPE, no_op)
    producer = EventBus(amqp_url=amqp_url, service="bench-producer", namespace=namespace)
    await consumer.start()
    await producer.start()
    try:
        assert await consumer.wait_ready(15) and await producer.wait_ready(15)
        batch = events(n)
        started = time.perf_counter()
        await publish_all(producer.publish, batch, concurrency)
        await asyncio.wait_for(done.wait(), 120)
        elapsed = time.perf_counter() - started
    finally:
        await producer.close()
        await consumer.close()
        await _drop(amqp_url, namespace, "bench")
    return n / elapsed


async def _drop(amqp_url: str, namespace: str, service: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in (queue_name(namespace, service), f"{namespace}{service}.dlq", f"{namespace}{service}.retry.1s"):
            await channel.queue_delete(name)
        for name in (exchange_name(namespace), f"{namespace}docflow.dlx"):
            await channel.exchange_delete(name)


async def run(args: argparse.Namespace) -> dict[str, object]:
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    ensure_rabbitmq(amqp_url)
    await bare_round(amqp_url, min(args.events, 500), args.concurrency)  # warm-up
    bare, bus = [], []
    for index in range(args.rounds):  # alternate who goes first: the machine's load drifts
        if index % 2:
            bus.append(await bus_round(amqp_url, args.events, args.concurrency))
            bare.append(await bare_round(amqp_url, args.events, args.concurrency))
        else:
            bare.append(await bare_round(amqp_url, args.events, args.concurrency))
            bus.append(await bus_round(amqp_url, args.events, args.concurrency))
        print(f"round: bare {bare[-1]:.0f}/s, EventBus {bus[-1]:.0f}/s", flush=True)
    figures = compared_rates(("event_bus_events", bus), ("bare_aio_pika_events", bare))
    return {
        "events_per_round": args.events,
        "publish_concurrency": args.concurrency,
        "prefetch": PREFETCH,
        **figures,
        "target": "ratio >= 0.7 and event_bus_events_per_s >= 1000",
        "meets_target": figures["ratio"] >= 0.7 and figures["event_bus_events_per_s"] >= 1000,
    }


def main() -> None:
    args = options(events=5000, rounds=4, concurrency=64)
    save("event_bus", asyncio.run(run(args)))


if __name__ == "__main__":
    main()
