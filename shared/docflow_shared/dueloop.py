"""The due-work loop: attempts the work that is due (new, retrying, or claimed by a worker that
died), in every replica; the claim each attempt takes makes it one replica's.

Mail's retry loop and notify's webhook send loop are this loop over their delivery logs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pymongo.errors import PyMongoError

logger = logging.getLogger(__name__)


@dataclass
class DueLoop:
    """Polls for due work every ``poll_seconds`` (or when woken) and attempts it, at most
    ``concurrency`` at a time. ``due(limit)`` lists the ids of due work, ``attempt(id)`` tries one;
    ``name`` names the task and, in logs, the loop and ``what`` it attempts."""

    due: Callable[[int], Awaitable[list[str]]]
    attempt: Callable[[str], Awaitable[object]]
    name: str
    what: str
    poll_seconds: float
    concurrency: int
    batch: int = 100
    _slots: asyncio.Semaphore = field(init=False)
    _wake: asyncio.Event = field(init=False, default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.concurrency)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        return asyncio.create_task(self.run(), name=self.name)

    async def run(self) -> None:
        while True:
            self._wake.clear()
            due = 0
            try:
                due = await self.pass_once()
            except PyMongoError as exc:
                logger.warning("%s cannot list the due %s: %r", self.name, self.what, exc)
            except Exception:
                logger.exception("%s pass failed", self.name)
            if due >= self.batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def pass_once(self) -> int:
        """Try every due piece of work once; returns how many were due."""
        ids = await self.due(self.batch)
        await asyncio.gather(*(self._attempt(work_id) for work_id in ids))
        return len(ids)

    async def _attempt(self, work_id: str) -> None:
        async with self._slots:
            try:
                await self.attempt(work_id)
            except PyMongoError as exc:
                logger.warning("%s %s not attempted: %r", self.what, work_id, exc)
            except Exception:
                logger.exception("%s %s attempt failed", self.what, work_id)
