"""The users projection orders events by ``event_clock``, a counter finer than a BSON date."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from pymongo.asynchronous.database import AsyncDatabase

from docflow_documents.users.repository import UserRepository
from docflow_shared.mongo import Document, event_clock


@pytest_asyncio.fixture(loop_scope="session")
async def users(db: AsyncDatabase[Document]) -> UserRepository:
    return UserRepository(db)


async def test_events_within_one_millisecond_still_order(users: UserRepository) -> None:
    """Two profile events 300 µs apart would tie as BSON dates; the older one, delivered last,
    must change nothing, and neither must the newer verification be undone by an older one."""
    at = datetime(2026, 12, 4, 8, 0, 0, 100_000, tzinfo=UTC)
    earlier, later = event_clock(at), event_clock(at + timedelta(microseconds=300))
    user_id = uuid.uuid4().hex
    await users.upsert(user_id, {"email": "new@x.kz", "full_name": "New", "deleted": False}, later)
    await users.upsert(user_id, {"email": "old@x.kz", "full_name": "Old", "deleted": False}, earlier)
    await users.set_verified_address(user_id, "new@x.kz", later)
    await users.set_verified_address(user_id, None, earlier)
    stored = await users.get(user_id)
    assert stored is not None
    assert (stored["full_name"], stored["verified_email"]) == ("New", "new@x.kz")
