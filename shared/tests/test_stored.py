"""Read models validated from stored documents: ``docflow_shared.stored`` and a delivery log's
``LogEntryRead``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from docflow_shared.dueloop import LogEntryRead
from docflow_shared.stored import Created, OptionalStoredTime, Text

AT = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


class Note(Created):
    body: Text = ""
    read_at: OptionalStoredTime = None


class Entry(LogEntryRead):
    open_statuses = ("pending", "retrying")


def test_a_stored_document_reads_with_its_id_and_times_however_they_were_stored() -> None:
    note = Note.from_doc({"_id": "n1", "created_at": AT.isoformat(), "body": None, "read_at": AT.timestamp(),
                          "owner_secret": "never shown"})
    assert (note.id, note.created_at, note.body, note.read_at) == ("n1", AT, "", AT)
    assert "owner_secret" not in note.model_dump()
    assert Note.from_doc({"_id": "n2", "created_at": AT.replace(tzinfo=None)}).created_at == AT


def test_a_damaged_stored_time_fails_rather_than_showing_a_time_that_never_was() -> None:
    with pytest.raises(ValidationError):
        Note.from_doc({"_id": "n1", "created_at": "yesterday"})


def test_a_log_entry_shows_when_it_is_due_only_while_it_is_open() -> None:
    stored = {"_id": "d1", "event_id": "e1", "status": "pending", "attempts": 1,
              "created_at": AT, "next_attempt_at": AT}
    assert Entry.from_doc(stored).next_attempt_at == AT
    assert Entry.from_doc({**stored, "status": "failed", "failed_at": AT}).next_attempt_at is None
