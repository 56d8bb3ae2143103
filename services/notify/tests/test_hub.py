"""This replica's open streams: bounded queues, and closing on revocation and expiry."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from docflow_notify.streams.hub import SESSION_ENDED, SLOW_CLIENT, TOKEN_EXPIRED, Hub
from docflow_notify.streams.schemas import Notification
from docflow_shared.revocations import RevocationList
from docflow_shared.tokens import Principal


def principal(user_id: str = "u1", session_id: str = "s1", expires_in: float = 600) -> Principal:
    return Principal(user_id=user_id, role="user", email_verified=True, token_id="t", session_id=session_id,
                     expires_at=int(time.time() + expires_in), issued_at=int(time.time()) - 5)


def note(n: int) -> Notification:
    return Notification(id=f"e{n}", type="document.shared", time=datetime.now(UTC))


class TestDeliver:
    async def test_a_user_gets_their_own_notifications_only(self) -> None:
        hub = Hub(queue_size=4, revocations=RevocationList())
        mine, theirs = hub.open(principal("u1"), "websocket"), hub.open(principal("u2"), "sse")
        shared = note(1)
        hub.deliver("u1", shared)
        assert (await mine.next(1)) == shared
        assert (await theirs.next(0.05)) is None

    async def test_a_slow_client_is_closed_with_a_reason_once_its_queue_is_full(self) -> None:
        hub = Hub(queue_size=2, revocations=RevocationList())
        stream = hub.open(principal(), "websocket")
        for n in range(3):
            hub.deliver("u1", note(n))
        assert stream.closing == SLOW_CLIENT
        assert (await stream.next(1)) is None


class TestClose:
    async def test_a_revoked_session_closes_its_streams_only(self) -> None:
        revocations = RevocationList()
        hub = Hub(queue_size=2, revocations=revocations)
        ended, other = hub.open(principal(session_id="s1"), "websocket"), hub.open(principal(session_id="s2"), "sse")
        revocations.revoke_session("s1")
        assert hub.close_ended_sessions() == 1
        assert ended.closing == SESSION_ENDED and other.closing is None

    async def test_an_expired_token_closes_its_stream(self) -> None:
        hub = Hub(queue_size=2, revocations=RevocationList())
        stream = hub.open(principal(expires_in=-1), "websocket")
        hub.close_expired()
        assert stream.closing == TOKEN_EXPIRED

    async def test_release_forgets_the_stream(self) -> None:
        hub = Hub(queue_size=2, revocations=RevocationList())
        stream = hub.open(principal(), "websocket")
        hub.release(stream)
        hub.release(stream)
        assert hub.count() == 0 and not hub.wants("u1")
