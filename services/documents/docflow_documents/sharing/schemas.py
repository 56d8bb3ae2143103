"""Sharing and inbox in and out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from docflow_shared.mongo import stored_datetime

Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=254,
                                          pattern=r"^[^@\s]+@[^@\s]+$")]


class SharePermission(StrEnum):
    read = "read"
    comment = "comment"
    sign = "sign"


class ShareCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipients: list[Email] = Field(min_length=1, max_length=50)
    permission: SharePermission = SharePermission.read
    message: str = Field("", max_length=2000)


class ShareRead(BaseModel):
    document_id: str
    recipient_id: str
    email: str
    full_name: str
    permission: SharePermission
    message: str
    created_at: datetime


class ShareResult(BaseModel):
    shares: list[ShareRead]


class InboxItemRead(BaseModel):
    id: str
    kind: str
    document_id: str
    title: str
    sender_id: str
    sender_name: str
    sender_email: str
    permission: str | None = None
    request_id: str | None = None
    message: str
    archived: bool
    created_at: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> InboxItemRead:
        return cls(
            id=doc["_id"], kind=doc["kind"], document_id=doc["document_id"], title=doc.get("title", ""),
            sender_id=doc.get("sender_id", ""), sender_name=doc.get("sender_name", ""),
            sender_email=doc.get("sender_email", ""), permission=doc.get("permission"),
            request_id=doc.get("request_id"), message=doc.get("message", ""), archived=bool(doc.get("archived")),
            created_at=stored_datetime(doc["created_at"]),  # type: ignore[arg-type]
        )
