"""Opaque ids and timestamps as DocFlow's documents service stores them."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from docflow_shared.errors import NotFound

_ID = re.compile(r"^[0-9a-f]{32}$")


def new_id() -> str:
    return uuid.uuid4().hex


def checked_id(value: str, what: str = "resource") -> str:
    """The id if it could be one of ours; a malformed id is simply not found."""
    if not _ID.match(value or ""):
        raise NotFound(f"No such {what}.")
    return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime | None = None) -> tuple[str, int]:
    """ISO-8601 text for output and integer microseconds for ordering and cursors."""
    moment = moment or utcnow()
    return moment.isoformat(), int(moment.timestamp() * 1_000_000)
