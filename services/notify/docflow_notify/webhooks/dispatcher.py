"""The send loop: attempts deliveries that are due (new, retrying, or claimed by a sender that
died), in every replica; a claim makes each attempt one replica's."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pymongo.errors import PyMongoError

from docflow_notify.webhooks.sender import DeliveryService

logger = logging.getLogger(__name__)


class SendLoop:
    """Polls for due deliveries every ``poll_seconds`` (or when woken) and attempts them."""

    def __init__(self, service: DeliveryService, *, poll_seconds: float, concurrency: int, batch: int = 100) -> None:
        self.service = service
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        return asyncio.create_task(self.run(), name="webhook-send-loop")

    async def run(self) -> None:
        while True:
            self._wake.clear()
            due = 0
            try:
                due = await self.pass_once()
            except PyMongoError as exc:
                logger.warning("send loop cannot read deliveries: %r", exc)
            except Exception:
                logger.exception("send loop pass failed")
            if due >= self.batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def pass_once(self) -> int:
        ids = await self.service.repository.due_ids(limit=self.batch)
        await asyncio.gather(*(self._attempt(delivery_id) for delivery_id in ids))
        return len(ids)

    async def _attempt(self, delivery_id: str) -> None:
        async with self._slots:
            try:
                await self.service.attempt(delivery_id)
            except PyMongoError as exc:
                logger.warning("webhook delivery %s not attempted: %r", delivery_id, exc)
            except Exception:
                logger.exception("webhook delivery %s attempt failed", delivery_id)
