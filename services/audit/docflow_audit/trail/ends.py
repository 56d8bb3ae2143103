"""What this process knows of the chains it appends to: each chain's last (seq, hash), and one
lock per chain, so that this process's own appends to a chain take turns instead of racing."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

End = tuple[int, str]


class ChainEnds:
    """A hint, never the truth: a place taken meanwhile by another replica makes the insert at
    the hinted place fail (the unique chain position), and the end is read again."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ends: OrderedDict[str, End] = OrderedDict()
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def get(self, document_id: str) -> End | None:
        end = self._ends.get(document_id)
        if end is not None:
            self._ends.move_to_end(document_id)
        return end

    def set(self, document_id: str, end: End) -> None:
        self._ends[document_id] = end
        self._ends.move_to_end(document_id)
        while len(self._ends) > self.size:
            self._ends.popitem(last=False)

    def forget(self, document_id: str) -> None:
        self._ends.pop(document_id, None)

    @asynccontextmanager
    async def turn(self, document_id: str) -> AsyncIterator[None]:
        """This process's appends to one chain, one after the other; the lock goes with its last user."""
        lock, users = self._locks.get(document_id) or (asyncio.Lock(), 0)
        self._locks[document_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[document_id]
            if users == 1:
                del self._locks[document_id]
            else:
                self._locks[document_id] = (lock, users - 1)
