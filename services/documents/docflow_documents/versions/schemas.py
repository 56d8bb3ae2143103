"""Versions out."""

from __future__ import annotations

from docflow_shared.stored import StoredRead, StoredTime, Text


class VersionRead(StoredRead):
    number: int
    document_id: str
    title: str
    description: Text = ""
    content: Text = ""
    sha256: str
    created_at: StoredTime
    replaced_at: StoredTime
    replaced_by: Text = ""
