"""What a stream sends: a small envelope per event (id, type, time, links), never content."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from docflow_shared.mongo import stored_datetime

if TYPE_CHECKING:
    from docflow_notify.streams.repository import NotificationDocument


class Notification(BaseModel):
    """One event as a user's streams and webhooks show it: what happened, when, and where to
    read it (links into the API, which checks access as for any request)."""

    id: str
    type: str
    time: datetime
    links: dict[str, str] = {}

    def to_message(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_doc(cls, doc: NotificationDocument) -> Notification:
        time = stored_datetime(doc.get("time")) or stored_datetime(doc["at"])
        return cls(id=doc["event_id"], type=doc["type"], time=time, links=dict(doc.get("links") or {}))


class Heartbeat(BaseModel):
    type: Literal["heartbeat"] = "heartbeat"
    time: datetime


class StreamAuth(BaseModel):
    """The first message of a WebSocket client that did not send its token in
    ``Sec-WebSocket-Protocol``."""

    type: Literal["auth"] = "auth"
    token: str
    last_event_id: str | None = None
