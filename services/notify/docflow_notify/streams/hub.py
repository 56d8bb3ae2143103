"""This replica's open streams, by user: where live notifications go, and what closes them.

Each stream has a bounded queue. A client that does not keep up fills it and its stream is
closed with a reason rather than buffered without end; it reconnects with its last id and
replays what it missed. A stream whose session is revoked (logout, block, deletion) or whose
token expires is closed too.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from docflow_notify.streams.schemas import Notification
from docflow_shared.metrics import NOTIFY_OPEN_STREAMS
from docflow_shared.revocations import RevocationList
from docflow_shared.tokens import Principal

Transport = Literal["websocket", "sse"]


@dataclass(frozen=True, slots=True)
class Closing:
    """Why a stream ends: a WebSocket close code (4000-4999 are the application's) and reason."""

    code: int
    reason: str


SLOW_CLIENT = Closing(4008, "too many events waiting: reconnect with the last id")
SESSION_ENDED = Closing(4001, "session ended")
TOKEN_EXPIRED = Closing(4002, "access token expired: reconnect with a fresh one")
SHUTTING_DOWN = Closing(1012, "service restarting")


@dataclass(eq=False, slots=True)
class Stream:
    """One open WebSocket or SSE response of one user: a bounded queue and one event that wakes
    its sender (a notification, or the close). Waiting makes no task: a thousand idle streams
    cost a thousand futures, not three thousand tasks."""

    principal: Principal
    transport: Transport
    limit: int
    waiting: deque[Notification] = field(default_factory=deque)
    closing: Closing | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, notification: Notification) -> None:
        if self.closing is not None:
            return
        if len(self.waiting) >= self.limit:
            self.close(SLOW_CLIENT)
            return
        self.waiting.append(notification)
        self.wake.set()

    def close(self, closing: Closing) -> None:
        if self.closing is None:
            self.closing = closing
            self.waiting.clear()
            self.wake.set()

    async def next(self, timeout: float) -> Notification | None:
        """The next notification; None after ``timeout`` seconds without one, or once closed."""
        if not self.waiting and self.closing is None:
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.wake.wait()
        if self.closing is not None or not self.waiting:
            return None
        return self.waiting.popleft()


class Hub:
    def __init__(self, *, queue_size: int, revocations: RevocationList) -> None:
        self.queue_size = queue_size
        self.revocations = revocations
        self._by_user: dict[str, set[Stream]] = {}

    def open(self, principal: Principal, transport: Transport) -> Stream:
        stream = Stream(principal, transport, self.queue_size)
        self._by_user.setdefault(principal.user_id, set()).add(stream)
        NOTIFY_OPEN_STREAMS.labels(transport).inc()
        return stream

    def release(self, stream: Stream) -> None:
        streams = self._by_user.get(stream.principal.user_id)
        if streams is None or stream not in streams:
            return
        streams.discard(stream)
        if not streams:
            del self._by_user[stream.principal.user_id]
        NOTIFY_OPEN_STREAMS.labels(stream.transport).dec()

    def wants(self, user_id: str) -> bool:
        return user_id in self._by_user

    def deliver(self, user_id: str, notification: Notification) -> None:
        for stream in tuple(self._by_user.get(user_id, ())):
            stream.offer(notification)

    def close_ended_sessions(self) -> int:
        """Close every stream whose token the revocation list now refuses; how many closed."""
        closed = 0
        for streams in tuple(self._by_user.values()):
            for stream in tuple(streams):
                principal = stream.principal
                if self.revocations.refuses(user_id=principal.user_id, session_id=principal.session_id,
                                            issued_at=principal.issued_at, role=principal.role):
                    stream.close(SESSION_ENDED)
                    closed += 1
        return closed

    def close_expired(self) -> None:
        now = time.time()
        for streams in tuple(self._by_user.values()):
            for stream in tuple(streams):
                if stream.principal.expires_at <= now:
                    stream.close(TOKEN_EXPIRED)

    def close_all(self) -> None:
        for streams in tuple(self._by_user.values()):
            for stream in tuple(streams):
                stream.close(SHUTTING_DOWN)

    def count(self) -> int:
        return sum(len(streams) for streams in self._by_user.values())
