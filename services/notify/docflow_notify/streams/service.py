"""Streams of a user's events: live from this replica's fan-out queue, replayed from MongoDB."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from pymongo.errors import PyMongoError

from docflow_notify.streams.concerns import concerned_users, links
from docflow_notify.streams.hub import Hub, Stream, Transport
from docflow_notify.streams.repository import NotificationRepository
from docflow_notify.streams.schemas import Heartbeat, Notification
from docflow_shared.errors import Unavailable
from docflow_shared.events import Event
from docflow_shared.revocations import RevocationList
from docflow_shared.tokens import Principal

logger = logging.getLogger(__name__)


class StreamService:
    def __init__(self, *, repository: NotificationRepository, hub: Hub, revocations: RevocationList,
                 replay_seconds: int, heartbeat_seconds: float) -> None:
        self.repository = repository
        self.hub = hub
        self.revocations = revocations
        self.replay_seconds = replay_seconds
        self.heartbeat_seconds = heartbeat_seconds
        # pushed by this replica, not stored yet, by user: a replay read meanwhile includes them
        self._unstored: dict[str, dict[str, Notification]] = {}

    async def publish(self, event: Event) -> None:
        """An event from this replica's fan-out queue: sent to the open streams of each user it
        concerns, then stored for replay. Until it is stored it is held here, and a stream
        opening meanwhile replays it from there: every replica gets every event, so a stream
        that registered after the push finds it either in the store or in this hold."""
        users = concerned_users(event.type, event.data)
        if not users:
            return
        notification = Notification(id=str(event.id), type=event.type, time=event.occurred_at,
                                    links=links(event.type, event.data))
        for user_id in users:
            self._unstored.setdefault(user_id, {})[notification.id] = notification
            self.hub.deliver(user_id, notification)
        for user_id in users:
            try:
                await self.repository.store(event_id=notification.id, event_type=event.type, at=event.occurred_at,
                                            user_id=user_id, links=notification.links)
            except PyMongoError as exc:  # delivered live; only a replay can miss it
                logger.warning("notification %s for %s not stored: %r", notification.id, user_id, exc)
            finally:
                held = self._unstored.get(user_id, {})
                held.pop(notification.id, None)
                if not held:
                    self._unstored.pop(user_id, None)

    async def end_sessions(self, event: Event) -> None:
        """A revocation event: remembered by the deny-list, then every stream it refuses closes."""
        await self.revocations.apply(event)
        closed = self.hub.close_ended_sessions()
        if closed:
            logger.info("closed %d streams after %s", closed, event.type)

    async def open(self, principal: Principal, transport: Transport,
                   last_event_id: str | None) -> tuple[Stream, list[Notification]]:
        """Register a stream for live events, then read what it missed after ``last_event_id``
        (the whole replay window when that id is no longer known): the store, then what this
        replica pushed but has not stored yet. Live events that arrive meanwhile wait in the
        stream's queue; ``follow`` drops those the replay already holds."""
        stream = self.hub.open(principal, transport)
        if not last_event_id:
            return stream, []
        try:
            docs = await self.repository.recent(principal.user_id, seconds=self.replay_seconds)
        except PyMongoError as exc:
            self.hub.release(stream)
            raise Unavailable("Missed events cannot be read right now; try again shortly.") from exc
        found = [Notification.from_doc(doc) for doc in docs]
        stored = {notification.id for notification in found}
        found += [n for n in self._unstored.get(principal.user_id, {}).values() if n.id not in stored]
        ids = [notification.id for notification in found]
        start = ids.index(last_event_id) + 1 if last_event_id in ids else 0
        return stream, found[start:]

    async def follow(self, stream: Stream, replay: list[Notification]) -> AsyncIterator[Notification | Heartbeat]:
        """The replayed notifications, then live ones, with a heartbeat after each quiet
        ``heartbeat_seconds``, until the stream is closed."""
        sent = {notification.id for notification in replay}
        for notification in replay:
            yield notification
        while stream.closing is None:
            live = await stream.next(self.heartbeat_seconds)
            if live is None:
                if stream.closing is None:
                    yield Heartbeat(time=datetime.now(UTC))
            elif live.id in sent:
                sent.discard(live.id)
            else:
                yield live

    def close(self, stream: Stream) -> None:
        self.hub.release(stream)

    async def close_expired(self) -> None:
        self.hub.close_expired()
