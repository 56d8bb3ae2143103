"""Signature request API models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator

Order = Literal["parallel", "sequential"]
RequestStatus = Literal["open", "completed", "cancelled", "expired"]
SignerStatus = Literal["pending", "signed", "removed", "undisclosed"]


class SignatureRequestCreate(BaseModel):
    signers: list[str] = Field(min_length=1, max_length=50, description="e-mail addresses of DocFlow users")
    order: Order = "parallel"
    message: str = Field("", max_length=2000)
    expires_at: AwareDatetime | None = None
    hide_signatures_until_complete: bool = False

    @field_validator("signers")
    @classmethod
    def _distinct_addresses(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        if any("@" not in v or len(v) > 320 for v in cleaned):
            raise ValueError("every signer must be an e-mail address")
        if len({v.lower() for v in cleaned}) != len(cleaned):
            raise ValueError("a signer is listed twice")
        return cleaned


class SignerRead(BaseModel):
    user_id: str
    email: str
    full_name: str
    position: int
    status: SignerStatus
    signed_at: datetime | None = None
    signature_id: str | None = None


class SignatureRequestRead(BaseModel):
    id: str
    document_id: str
    owner_id: str
    order: Order
    message: str
    expires_at: datetime | None
    hide_signatures_until_complete: bool
    status: RequestStatus
    created_at: datetime
    closed_at: datetime | None = None
    signers: list[SignerRead]


class AssignedRequestRead(BaseModel):
    """A request the caller is asked to sign, as ``GET /signature-requests`` lists it."""

    request_id: str
    document_id: str
    document_title: str
    owner_id: str
    owner_name: str
    order: Order
    message: str
    expires_at: datetime | None
    status: RequestStatus
    position: int
    signer_status: SignerStatus
    your_turn: bool
    created_at: datetime
