"""The bus and the outbox relay keep their metrics against the real RabbitMQ and MongoDB:
retries, dead letters, queue depths, and the age of what waits in an outbox."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.bus import EventBus
from docflow_shared.events import Event
from docflow_shared.events.catalogue import UserEmailVerified
from docflow_shared.events.envelope import new_event
from docflow_shared.mongo import Document
from docflow_shared.outbox import outbox_fields
from docflow_shared.relay import OutboxRelay


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def verified(user: str) -> Event:
    return new_event(UserEmailVerified(user_id=user, email=f"{user}@example.com"), producer="auth")


async def wait_until(condition, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


class TestBusMetrics:
    async def test_handled_retried_and_dead_lettered_events_and_the_dlq_depth(
            self, amqp_url: str, namespace: str) -> None:
        service = f"svc{uuid.uuid4().hex[:6]}"

        async def handle(event: Event) -> None:
            if event.payload(UserEmailVerified).user_id == "poison":
                raise ValueError("cannot handle this one")

        bus = EventBus(amqp_url=amqp_url, service=service, namespace=namespace, retry_delays=(1,))
        bus.subscribe(UserEmailVerified.TYPE, handle)
        await bus.start()
        assert await bus.wait_ready(15)
        kind = {"service": service, "type": UserEmailVerified.TYPE}
        try:
            await bus.publish(verified("fine"))
            await bus.publish(verified("poison"))
            assert sample("docflow_events_published_total", **kind) == 2

            async def dead_lettered() -> bool:
                await bus.measure_queues()
                return sample("docflow_queue_messages", service=service, queue="dlq") == 1

            await wait_until(dead_lettered)
            assert sample("docflow_events_consumed_total", **kind, outcome="handled") == 1
            assert sample("docflow_events_consumed_total", **kind, outcome="retried") == 1
            assert sample("docflow_events_consumed_total", **kind, outcome="dead_lettered") == 1
            assert sample("docflow_event_handling_seconds_count", **kind) == 3
            assert sample("docflow_queue_messages", service=service, queue="events") == 0
        finally:
            await bus.close()

    async def test_a_publish_the_broker_cannot_take_is_counted(self) -> None:
        service = f"down{uuid.uuid4().hex[:6]}"
        bus = EventBus(amqp_url="amqp://guest:guest@127.0.0.1:1/", service=service)
        try:
            await bus.publish(verified("kept"))
        except Exception as exc:
            assert type(exc).__name__ == "BrokerUnavailable"
        assert sample("docflow_event_publish_failures_total", service=service, type=UserEmailVerified.TYPE) == 1


class TestOutboxBacklog:
    async def test_pending_documents_and_the_oldest_event_age(self, db: AsyncDatabase[Document]) -> None:
        service = f"down{uuid.uuid4().hex[:6]}"
        relay = OutboxRelay(EventBus(amqp_url="amqp://guest:guest@127.0.0.1:1/", service=service), [db.users])
        old = verified("old").model_copy(update={"occurred_at": datetime.now(UTC) - timedelta(minutes=2)})
        await db.users.insert_one({"_id": "old", **outbox_fields(old)})
        await db.users.insert_one({"_id": "new", **outbox_fields(verified("new"))})
        await db.users.insert_one({"_id": "done", **outbox_fields()})
        await relay.measure_backlog()
        where = {"service": service, "collection": "users"}
        assert sample("docflow_outbox_pending_documents", **where) == 2
        assert 120 <= sample("docflow_outbox_oldest_pending_age_seconds", **where) < 180

        await db.users.update_many({}, {"$set": {"outbox_pending": False, "outbox": []}})
        await relay.measure_backlog()
        assert sample("docflow_outbox_pending_documents", **where) == 0
        assert sample("docflow_outbox_oldest_pending_age_seconds", **where) == 0
