"""Files in and out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, StringConstraints

from docflow_documents.files.zip_listing import ZipEntry
from docflow_documents.stored import CreatedAndUpdated
from docflow_shared.stored import Text


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


@dataclass
class FileDownload:
    """A file (or a range of it) to send, or only the headers (304, or a HEAD-like answer)."""

    status: int
    headers: dict[str, str]
    body: AsyncIterator[bytes] | None = None

    def response(self) -> Response:
        if self.body is None:
            return Response(status_code=self.status, headers=self.headers)
        headers = dict(self.headers)
        media_type = headers.pop("Content-Type")
        return StreamingResponse(self.body, status_code=self.status, headers=headers, media_type=media_type)


class FileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class ZipListingRead(BaseModel):
    file_id: str
    entries: list[ZipEntry]  # as listed: name, size, compressed size, CRC, directory, method
    total_size: int
    total_compressed_size: int
