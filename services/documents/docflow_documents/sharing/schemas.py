"""Sharing and inbox in and out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from docflow_shared.stored import Identified, OptionalText, StoredTime, Text

Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=254,
                                          pattern=r"^[^@\s]+@[^@\s]+$"),
                Field(json_schema_extra={"format": "email"})]


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
    """One recipient of a share. ``active``: granted to the account that has proven ``email``.
    ``pending``: no account has proven ``email`` yet; the share waits (``recipient_id`` null) and
    is granted to whoever proves it, unless revoked first (``DELETE .../share/{email}``)."""

    document_id: str
    recipient_id: str | None
    email: str
    full_name: str
    permission: SharePermission
    message: str
    created_at: datetime
    status: Literal["active", "pending"] = "active"


class ShareResult(BaseModel):
    shares: list[ShareRead]


class InboxItemRead(Identified):
    kind: str
    document_id: str
    title: Text = ""
    sender_id: Text = ""
    sender_name: Text = ""
    sender_email: Text = ""
    permission: OptionalText = None
    request_id: OptionalText = None
    message: Text = ""
    archived: bool = False
    created_at: StoredTime
