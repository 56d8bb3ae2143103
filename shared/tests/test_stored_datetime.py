"""Stored times read back the same whatever form the server returned them in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from docflow_shared.mongo import stored_datetime

MOMENT = datetime(2026, 11, 23, 5, 41, 41, 440000, tzinfo=UTC)


def test_every_stored_form_gives_the_same_aware_moment() -> None:
    almaty = timezone(timedelta(hours=5))
    for value in (MOMENT, MOMENT.replace(tzinfo=None), MOMENT.astimezone(almaty),
                  "2026-11-23 05:41:41.440000", "2026-11-23T10:41:41.440000+05:00", MOMENT.timestamp(),
                  int(MOMENT.timestamp() * 1000), int(MOMENT.timestamp() * 1_000_000)):
        parsed = stored_datetime(value)
        assert parsed == MOMENT and parsed.tzinfo is not None, value


def test_absent_or_unreadable_is_none() -> None:
    for value in (None, "", "yesterday", True, {"$date": 1}):
        assert stored_datetime(value) is None, value
