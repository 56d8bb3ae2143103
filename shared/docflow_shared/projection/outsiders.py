"""Routes' sessions for people outside DocFlow as documents and signing each keep them
(``external_sessions``, from ``route.external_access_granted``/``_revoked``), replaced whole.

The expiry is a date compared in Python only. A session stored before it was a date holds
``expires_us``, integer microseconds, until the next grant or revocation replaces it:
``live`` reads either through ``stored_datetime`` (docs/architecture.md, "Times")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from docflow_shared.mongo import stored_datetime, utc_now

EXTERNAL_SESSIONS = "external_sessions"


class OutsiderSessionDocument(TypedDict, total=False):
    _id: str  # the hash of the session token
    signer_id: str  # ``ext:<entry id>``, ``:d`` for a delegate
    request_id: str
    document_id: str
    email: str  # signing's
    may_sign: bool  # signing's
    expires_at: datetime
    expires_us: int  # older sessions' expiry, integer microseconds
    revoked: bool


def older_or(record: Mapping[str, Any], field: str, older: str) -> datetime | None:
    """The time ``field`` of a record, or its ``older`` integer microseconds for a record stored
    before it was a date; None when it has neither."""
    return stored_datetime(record[field] if field in record else record.get(older))


def live(session: OutsiderSessionDocument | None) -> bool:
    """Whether a session is known and unexpired (one without an expiry is not)."""
    ends = None if session is None else older_or(session, "expires_at", "expires_us")
    return ends is not None and ends > utc_now()
