"""Rate limits: counters shared by the gateway replicas, and an in-process fallback."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from docflow_shared.mongo import count_in_window

logger = logging.getLogger(__name__)


class RateLimiter:
    """Token buckets keyed by any string; refills ``per_minute`` tokens a minute."""

    def __init__(self, per_minute: int, *, max_keys: int = 100_000) -> None:
        self.capacity = float(max(1, per_minute))
        self.rate = self.capacity / 60.0
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def hit(self, key: str) -> int:
        """Take one token; 0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))
        self._buckets[key] = (tokens - 1.0, now)
        self._buckets.move_to_end(key)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return 0


class SharedLimiter:
    """A limit every gateway replica shares: sliding-window counters in the gateway's MongoDB.

    One counter document per (rule, key, minute), raised by one atomic ``$inc`` (or inserted
    when new: ``docflow_shared.mongo.count_in_window``); the previous minute's count, weighted by
    how much of it is still in the last 60 s, is added (the sliding-window-counter estimate). A
    TTL index removes old counters. When the database does not answer, the replica falls back to
    its own token bucket (fail-open to the per-replica limit; see services/gateway/README.md).
    """

    WINDOW = 60

    def __init__(self, collection: AsyncCollection[dict[str, Any]] | None, rule: str, per_minute: int, *,
                 timeout: float = 0.5) -> None:
        self.collection = collection
        self.rule = rule
        self.limit = max(1, per_minute)
        self.timeout = timeout
        self.local = RateLimiter(per_minute)

    async def hit(self, key: str) -> int:
        """Count one request; 0 when allowed, else the seconds to wait."""
        if self.collection is None:
            return self.local.hit(key)
        now = time.time()
        start = int(now // self.WINDOW) * self.WINDOW
        try:
            current, previous = await asyncio.wait_for(self._count(key, start), self.timeout)
        except (PyMongoError, TimeoutError) as exc:
            logger.warning("shared rate limit unavailable (%r); using this replica's own", exc)
            return self.local.hit(key)
        elapsed = (now - start) / self.WINDOW
        if current + previous * (1.0 - elapsed) > self.limit:
            return max(1, math.ceil(start + self.WINDOW - now))
        return 0

    async def _count(self, key: str, start: int) -> tuple[int, int]:
        assert self.collection is not None
        expires = datetime.fromtimestamp(start + 2 * self.WINDOW, UTC)
        current = await count_in_window(self.collection, f"{self.rule}:{key}:{start}", expires, field="n")
        previous = await self.collection.find_one({"_id": f"{self.rule}:{key}:{start - self.WINDOW}"})
        return current, int((previous or {}).get("n", 0))
