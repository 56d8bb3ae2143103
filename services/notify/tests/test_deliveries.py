"""The webhook delivery log under concurrent senders: the writes of one moment share a bulk write
(what makes notify keep up with a bare poster writing the same log), yet each sender gets its
own answer, and an outcome never overwrites an attempt another sender took over."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient, monitoring

from docflow_notify.deliveries.repository import DeliveryRepository
from docflow_shared.mongo import Document, utc_now
from docflow_shared.outbox import StaleDocument, Whole


class Commands(monitoring.CommandListener):
    """Counts the commands the client sends, by name."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest_asyncio.fixture(loop_scope="session")
async def commands() -> Commands:
    return Commands()


@pytest_asyncio.fixture(loop_scope="session")
async def repository(mongo_url: str, run_id: str, commands: Commands) -> AsyncIterator[DeliveryRepository]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True, event_listeners=[commands])
    database = client[f"t{run_id}_whdlog_{uuid.uuid4().hex[:6]}"]
    repo = DeliveryRepository(database)
    await repo.ensure_indexes()
    commands.sent.clear()
    yield repo
    await client.drop_database(database.name)
    await client.close()


def delivery(delivery_id: str, event_id: str, webhook_id: str = "whk1", attempts: int = 1) -> Whole:
    at = utc_now()
    return DeliveryRepository.as_inserted({
        "_id": delivery_id, "webhook_id": webhook_id, "owner_id": "u1", "event_id": event_id,
        "event_type": "document.created", "body": "{}", "status": "sending", "attempts": attempts,
        "next_attempt_at": at, "give_up_at": at})


class TestInsert:
    async def test_concurrent_deliveries_share_round_trips(self, repository: DeliveryRepository,
                                                           commands: Commands) -> None:
        stored = await asyncio.gather(*(repository.insert(delivery(f"d{i}", f"e{i}")) for i in range(40)))
        assert stored == [True] * 40
        assert await repository.collection.count_documents({}) == 40
        # the first goes at once, the others wait for it and go together (a few batches at most)
        assert 1 <= commands.sent.count("insert") <= 4, commands.sent

    async def test_a_redelivered_event_is_stored_once_and_its_copies_answered_false(
            self, repository: DeliveryRepository) -> None:
        stored = await asyncio.gather(
            repository.insert(delivery("a1", "e-dup")), repository.insert(delivery("a2", "e-dup")),
            repository.insert(delivery("a3", "e-dup", webhook_id="whk2")), repository.insert(delivery("a4", "e-dup")))
        assert stored == [True, False, True, False]
        assert await repository.collection.count_documents({"event_id": "e-dup"}) == 2

    async def test_a_delivery_that_cannot_be_stored_fails_alone(self, repository: DeliveryRepository) -> None:
        bad = {**delivery("bad", "e-bad"), "body": object()}
        stored = await asyncio.gather(repository.insert(delivery("ok1", "e-ok1")), repository.insert(bad),
                                      repository.insert(delivery("ok2", "e-ok2")), return_exceptions=True)
        assert stored[0] is True and stored[2] is True
        assert type(stored[1]).__name__ == "InvalidDocument"
        assert await repository.get("ok1") is not None and await repository.get("ok2") is not None


class TestRecord:
    async def test_outcomes_of_one_moment_go_together_and_spare_a_delivery_taken_over(
            self, repository: DeliveryRepository, commands: Commands) -> None:
        await asyncio.gather(*(repository.insert(delivery(f"r{i}", f"e-r{i}")) for i in range(20)))
        claimed = [await repository.get(f"r{i}") for i in range(20)]
        # r1's claim lapsed and another sender took it (attempt 2) before this one's outcome came
        r1 = await repository.get("r1")
        assert r1 is not None
        await repository.update(r1, {"attempts": 2})
        commands.sent.clear()
        await asyncio.gather(*(repository.record(doc, {"status": "delivered", "last_status_code": 204})
                               for doc in claimed if doc))
        assert 1 <= commands.sent.count("update") <= 4, commands.sent
        statuses = {doc["_id"]: doc["status"] async for doc in repository.collection.find({})}
        assert statuses.pop("r1") == "sending"
        assert set(statuses.values()) == {"delivered"}


class TestReopen:
    async def test_a_delivery_is_reopened_by_hand_unless_a_sender_still_holds_it(
            self, repository: DeliveryRepository) -> None:
        await repository.insert(delivery("h1", "e-h1", attempts=3))
        held = await repository.get("h1")
        assert held is not None
        held = await repository.update(held, {"next_attempt_at": utc_now() + timedelta(seconds=60)})
        assert await repository.reopen(held, keep_seconds=3600) is None  # a sender's claim lasts
        lapsed = await repository.update(held, {"next_attempt_at": utc_now() - timedelta(seconds=1)})
        reopened = await repository.reopen(lapsed, keep_seconds=3600)
        assert reopened is not None
        assert (reopened["status"], reopened["attempts"]) == ("pending", 0)
        assert await repository.due_ids(limit=10) == ["h1"]
        with pytest.raises(StaleDocument):  # read before the reopening: it lost the race
            await repository.reopen(lapsed, keep_seconds=3600)
