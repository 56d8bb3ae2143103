"""Fixed-window limits per account (the gateway limits per IP)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from docflow_auth.security.secrets import token_hash
from docflow_auth.throttle.repository import RateLimitRepository
from docflow_shared.errors import TooManyRequests


class Throttle:
    def __init__(self, repository: RateLimitRepository) -> None:
        self.repository = repository

    async def retry_after(self, scope: str, subject: str, *, limit: int, window: int) -> int:
        """Count one attempt by ``subject``; the seconds it must wait before the next one counts
        (until the window ends) when it went over ``limit``, else 0: go ahead."""
        now = time.time()
        index = int(now // window)
        ends = (index + 1) * window
        key = f"{scope}:{token_hash(subject.lower())[:32]}:{index}"
        count = await self.repository.hit(key, datetime.fromtimestamp(ends, UTC))
        return 0 if count <= limit else max(1, int(ends - now) + 1)

    async def check(self, scope: str, subject: str, *, limit: int, window: int,
                    detail: str = "Too many attempts for this account; try again later.",
                    slug: str = "rate-limited") -> None:
        """Count one attempt; 429 with Retry-After when ``subject`` went over ``limit`` in this window."""
        wait = await self.retry_after(scope, subject, limit=limit, window=window)
        if wait:
            raise TooManyRequests(detail, retry_after=wait, slug=slug)
