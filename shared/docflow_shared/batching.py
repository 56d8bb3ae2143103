"""Group commit: writes that arrive while the previous write is in flight go out together.

Each e-mail or webhook delivery costs a few round trips to the database (its log record stored,
then its outcome); concurrent consumers issuing them one by one spend most of their time (and
the server's) on per-request overhead. A caller still awaits its own outcome, so nothing is
acknowledged, or sent, before it is stored; a lone write goes at once, without waiting for
company. Used by mail's and notify's delivery logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Flush = Callable[[Sequence[T]], Awaitable[Sequence[R | BaseException]]]


class GroupCommit(Generic[T, R]):
    """Collects items and writes them with ``flush`` (one outcome per item), one batch at a time."""

    def __init__(self, flush: Flush[T, R], *, max_batch: int = 64,
                 own_errors: tuple[type[Exception], ...] = (), name: str = "group-commit") -> None:
        self._flush = flush
        self.name = name
        self.max_batch = max_batch
        # errors that one item causes before anything is written (a value that cannot be
        # encoded): the batch is written again item by item, so only that item's caller fails
        self.own_errors = own_errors
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write one item with whatever else is waiting; raises what its write raised."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name=self.name)
        return await future

    async def _write_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
            try:
                await self._write(batch)
            except BaseException:  # cancelled: nobody waits for an answer that will not come
                for _, future in batch + self._pending:
                    future.cancel()
                self._pending = []
                raise

    async def _write(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            outcomes = await self._flush([item for item, _ in batch])
        except self.own_errors as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            for one in batch:
                await self._write([one])
            return
        except Exception as exc:
            for _, future in batch:
                _settle(future, exc)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            _settle(future, outcome)


def _settle(future: asyncio.Future[R], outcome: R | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
