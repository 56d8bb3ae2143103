"""The deliveries collection under concurrent writers: stored together, answered one by one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest_asyncio
from pymongo.asynchronous.database import AsyncDatabase

from docflow_mail.deliveries.repository import DeliveryRepository
from docflow_mail.deliveries.schemas import DeliveryRead
from docflow_shared.mongo import Document, utc_now
from docflow_shared.outbox import Outbox


@pytest_asyncio.fixture(loop_scope="session")
async def repository(db: AsyncDatabase[Document]) -> DeliveryRepository:
    repo = DeliveryRepository(db, Outbox())
    await repo.ensure_indexes()
    return repo


def delivery(delivery_id: str, event_id: str, recipient: str) -> dict[str, Any]:
    return {"_id": delivery_id, "event_id": event_id, "recipient": recipient, "status": "sending",
            "attempts": 1, "template": "welcome"}


class TestInsert:
    async def test_concurrent_copies_of_one_delivery_store_it_once(self, repository: DeliveryRepository) -> None:
        outcomes = await asyncio.gather(
            repository.insert(delivery("d1", "e1", "a@x.kz")),
            repository.insert(delivery("d2", "e1", "a@x.kz")),
            repository.insert(delivery("d3", "e1", "b@x.kz")),
            repository.insert(delivery("d4", "e1", "a@x.kz")),
        )
        assert outcomes == [True, False, True, False]
        assert await repository.collection.count_documents({"event_id": "e1"}) == 2


    async def test_a_delivery_that_cannot_be_stored_fails_alone(self, repository: DeliveryRepository) -> None:
        bad = {**delivery("bad", "e-bad", "a@x.kz"), "context": {"value": object()}}
        outcomes = await asyncio.gather(repository.insert(delivery("ok1", "e-ok1", "a@x.kz")), repository.insert(bad),
                                        repository.insert(delivery("ok2", "e-ok2", "a@x.kz")), return_exceptions=True)
        assert outcomes[0] is True and outcomes[2] is True
        assert type(outcomes[1]).__name__ == "InvalidDocument"
        assert await repository.get("ok1") is not None and await repository.get("ok2") is not None


class TestRecord:
    async def test_outcomes_written_together_say_which_delivery_changed_meanwhile(
        self, repository: DeliveryRepository
    ) -> None:
        await asyncio.gather(*(repository.insert(delivery(f"r{i}", f"e-r{i}", "a@x.kz")) for i in range(3)))
        current = [await repository.get(f"r{i}") for i in range(3)]
        assert all(current)
        await repository.update(current[1], {"status": "retrying"})  # another writer got there first
        stored = await asyncio.gather(*(repository.record(doc, {"status": "sent"}) for doc in current if doc))
        assert stored == [True, False, True]
        statuses = {d["_id"]: d["status"] async for d in repository.collection.find({})}
        assert statuses == {"r0": "sent", "r1": "retrying", "r2": "sent"}


class TestSchedule:
    async def test_a_delivery_scheduled_in_epoch_seconds_is_due_after_the_start_up_rewrite(
            self, repository: DeliveryRepository) -> None:
        """Deliveries once kept ``next_attempt_at`` as epoch seconds; they are rewritten as dates at
        start, then found due and claimed (the claim writes a date too)."""
        due = datetime.now(UTC) - timedelta(seconds=5)
        await repository.collection.insert_one({
            **delivery("old", "e-old", "a@x.kz"), "status": "retrying", "next_attempt_at": due.timestamp(),
            "give_up_at": due.timestamp() + 3600, "outbox": [], "outbox_pending": False, "outbox_rev": 0})
        assert "old" not in await repository.due_ids(limit=100)
        await repository.ensure_indexes()
        assert "old" in await repository.due_ids(limit=100)
        claimed = await repository.claim("old", claim_seconds=60)
        assert claimed is not None and claimed["attempts"] == 2 and claimed["status"] == "sending"
        assert await repository.claim("old", claim_seconds=60) is None
        stored = await repository.collection.find_one({"_id": "old"})
        assert stored is not None and isinstance(stored["next_attempt_at"], datetime)
        assert stored["next_attempt_at"] > datetime.now(UTC) and isinstance(stored["give_up_at"], datetime)


class TestStoredTypes:
    async def test_a_delivery_reads_back_with_the_types_its_typeddict_declares(
            self, repository: DeliveryRepository) -> None:
        created = utc_now()
        due = created + timedelta(minutes=5)
        assert await repository.insert({**delivery("typed", "e-typed", "t@x.kz"), "status": "pending",
                                        "created_at": created, "next_attempt_at": due,
                                        "give_up_at": created + timedelta(days=1), "context": {"n": 1}})
        stored = await repository.find_for("e-typed", "t@x.kz")
        assert stored is not None
        assert isinstance(stored["created_at"], datetime) and stored["created_at"] == created
        # a time that queries compare: a BSON date, written by insert (``docflow_shared.mongo``)
        assert isinstance(stored["next_attempt_at"], datetime) and stored["next_attempt_at"] == due
        assert stored["context"] == {"n": 1} and isinstance(stored["outbox_rev"], int)
        [listed] = await repository.page(status="pending", recipient="t@x.kz", after={}, limit=10)
        assert "context" not in listed
        assert DeliveryRead.from_doc(listed).created_at == created
