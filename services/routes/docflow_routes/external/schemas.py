"""API models of the links for people outside DocFlow."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

Code = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="the 6-digit code sent by e-mail")]


class LinkOpened(BaseModel):
    """The link is valid: a code went to ``email`` (masked), valid until ``code_expires_at``."""

    request_id: str
    document_title: str
    owner_name: str
    role: Literal["approve", "sign", "cc"]
    email: str
    code_expires_at: datetime


class CodeBody(BaseModel):
    code: Code


class SessionOpened(BaseModel):
    """Send ``session_token`` in the ``DocFlow-External-Session`` header; it opens this request's
    document alone, until ``expires_at``."""

    session_token: str
    expires_at: datetime
    request_id: str
    document_id: str


class ExternalFile(BaseModel):
    id: str
    name: str
    size: int
    sha256: str


class ExternalView(BaseModel):
    request_id: str
    document_id: str
    document_title: str
    owner_name: str
    message: str
    role: Literal["approve", "sign", "cc"]
    status: str
    request_status: str
    your_turn: bool
    signer_id: str
    files: list[ExternalFile]
