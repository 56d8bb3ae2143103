"""MongoDB helpers: the client factory and idempotent event handling."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from docflow_shared.events import Event

logger = logging.getLogger(__name__)

Document = dict[str, Any]


def stored_datetime(value: object) -> datetime | None:
    """A stored time as an aware UTC datetime: a BSON date, epoch seconds, or the ISO text some
    MongoDB-wire servers return for dates written by ``$set``. None when absent or unreadable."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def create_client(url: str, *, timeout_ms: int = 3000) -> AsyncMongoClient[Document]:
    """A client that fails fast when the server is unreachable (so requests answer 503)."""
    return AsyncMongoClient(
        url,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=max(timeout_ms * 5, 15000),
        appname="docflow",
    )


async def ping(client: AsyncMongoClient[Document]) -> bool:
    try:
        await asyncio.wait_for(client.admin.command("ping"), 2)
        return True
    except (PyMongoError, TimeoutError):
        return False


async def ensure_indexes_forever(
    create: Callable[[], Awaitable[None]], *, first_timeout: float = 10.0
) -> asyncio.Task[None] | None:
    """Create indexes now; if the database is down, keep trying in the background."""

    async def attempt_forever() -> None:
        delay = 1.0
        while True:
            try:
                await create()
                logger.info("indexes ready")
                return
            except PyMongoError as exc:
                logger.warning("index creation failed (%r); retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)

    try:
        await asyncio.wait_for(create(), first_timeout)
        return None
    except (PyMongoError, TimeoutError):
        return asyncio.create_task(attempt_forever(), name="ensure-indexes")


class ProcessedEvents:
    """Remembers which events a consumer has handled, so a redelivery has no second effect."""

    def __init__(self, db: AsyncDatabase[Document], consumer: str) -> None:
        self.collection = db["processed_events"]
        self.consumer = consumer

    def _key(self, event: Event) -> str:
        return f"{self.consumer}:{event.id}"

    async def seen(self, event: Event) -> bool:
        return await self.collection.find_one({"_id": self._key(event)}, {"_id": 1}) is not None

    async def mark(self, event: Event) -> None:
        try:
            await self.collection.insert_one(
                {"_id": self._key(event), "type": event.type, "at": datetime.now(UTC)}
            )
        except DuplicateKeyError:
            pass

    async def run_once(self, event: Event, work: Callable[[], Awaitable[None]]) -> bool:
        """Run ``work`` unless this event was handled before; True when it ran.

        ``work`` must itself be safe to repeat: a crash between it and the mark re-runs it.
        """
        if await self.seen(event):
            return False
        await work()
        await self.mark(event)
        return True
