"""Files in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from docflow_documents.files.zip_listing import ZipEntry
from docflow_shared.mongo import stored_datetime


class FileRead(BaseModel):
    id: str
    document_id: str
    name: str
    size: int
    content_type: str
    sha256: str
    uploaded_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> FileRead:
        return cls(
            id=doc["_id"], document_id=doc["document_id"], name=doc["name"], size=int(doc["size"]),
            content_type=doc["content_type"], sha256=doc["sha256"], uploaded_by=doc.get("uploaded_by", ""),
            created_at=stored_datetime(doc["created_at"]),  # type: ignore[arg-type]
            updated_at=stored_datetime(doc.get("updated_at") or doc["created_at"]),  # type: ignore[arg-type]
        )


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
