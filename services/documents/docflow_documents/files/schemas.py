"""Files in and out."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from docflow_documents.files.zip_listing import ZipEntry
from docflow_documents.stored import CreatedAndUpdated, Text


class FileRead(CreatedAndUpdated):
    document_id: str
    name: str
    size: int
    content_type: str
    sha256: str
    streebog256: str | None = None
    """Hex Streebog-256 (GOST R 34.11-2012), once signing asked for it (a GOST signature of the file)."""
    streebog512: str | None = None
    uploaded_by: Text = ""


class FileUploaded(FileRead):
    duplicates: list[FileRead]


class FileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class ZipListingRead(BaseModel):
    file_id: str
    entries: list[ZipEntry]  # as listed: name, size, compressed size, CRC, directory, method
    total_size: int
    total_compressed_size: int
