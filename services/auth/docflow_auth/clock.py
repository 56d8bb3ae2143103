"""UTC time, and reading stored times back.

Times are stored as BSON dates; ``aware`` also accepts the ISO text some MongoDB-wire servers
return for dates written by ``$set``, so reads never depend on the server's quirks. Fields that
queries compare against carry a numeric twin (``*_ts``, seconds since the epoch).
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: object) -> datetime | None:
    """A stored time as an aware UTC datetime (None when absent or unreadable)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
