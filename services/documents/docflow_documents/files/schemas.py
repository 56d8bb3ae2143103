"""Files in and out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from docflow_documents.files.zip_listing import ZipEntry
from docflow_documents.stored import CreatedAndUpdated
from docflow_shared.stored import Text


class FileRead(CreatedAndUpdated):
    document_id: str
    name: str
    size: int = Field(description="Bytes.")
    content_type: str = Field(description="Detected from the file's first bytes, never taken from the upload.")
    sha256: str = Field(description="Hexadecimal SHA-256 of the content.")
    streebog256: str | None = Field(
        None, description="Hexadecimal Streebog-256 (GOST R 34.11-2012) of the content, once a GOST signature "
                          "needed it; null until then.")
    streebog512: str | None = Field(None, description="Streebog-512, as `streebog256`.")
    uploaded_by: Text = Field("", description="The user id of who uploaded it.")


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
