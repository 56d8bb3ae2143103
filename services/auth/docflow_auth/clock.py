"""UTC time, and reading stored times back.

Times are stored as BSON dates and read back with ``docflow_shared.mongo.stored_datetime``, so
reads never depend on a server's quirks. Fields that queries compare against carry a numeric
twin (``*_ts``, seconds since the epoch).
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
