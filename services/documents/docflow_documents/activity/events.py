"""What the activity domain publishes: reads, which change nothing stored here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from docflow_shared.events import Client
from docflow_shared.events.catalogue import DocumentViewed, FileDownloaded


def viewed(document: Mapping[str, Any], viewer_id: str, client: Client) -> DocumentViewed:
    return DocumentViewed(document_id=str(document["_id"]), owner_id=str(document["owner_id"]),
                          viewer_id=viewer_id, client=client)


def downloaded(file: Mapping[str, Any], downloader_id: str, byte_range: str, client: Client) -> FileDownloaded:
    return FileDownloaded(document_id=str(file["document_id"]), file_id=str(file["_id"]),
                          owner_id=str(file["owner_id"]), downloader_id=downloader_id, name=str(file.get("name", "")),
                          sha256=str(file.get("sha256", "")), byte_range=byte_range, client=client)
