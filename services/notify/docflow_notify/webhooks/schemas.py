"""Webhooks as the API shows them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from docflow_notify.streams.concerns import ROUTE_TYPES
from docflow_shared.stored import Created, OptionalStoredTime, Text

# what a webhook may subscribe to: what happens to documents (their owner's, or every one for an
# admin's webhook)
WEBHOOK_TYPES: tuple[str, ...] = (
    "document.created", "document.updated", "document.deleted", "document.file_added",
    "document.file_removed", "document.shared", "document.share_revoked", "document.commented",
    "signature.requested", "signature.request_expired", "signature.request_cancelled",
    "document.signed", "document.completed", *ROUTE_TYPES,
)



def _known_types(types: list[str]) -> list[str]:
    unknown = sorted(set(types) - set(WEBHOOK_TYPES))
    if unknown:
        raise ValueError(f"unknown event types: {', '.join(unknown)}; known: {', '.join(WEBHOOK_TYPES)}")
    return sorted(set(types))


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2048, pattern=r"^https?://")
    event_types: list[str] = Field(min_length=1, max_length=len(WEBHOOK_TYPES))
    # own: events of the caller's documents; all: every document's (admins only)
    scope: Literal["own", "all"] = "own"
    description: str = Field("", max_length=200)

    _types = field_validator("event_types")(_known_types)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, min_length=8, max_length=2048, pattern=r"^https?://")
    event_types: list[str] | None = Field(None, min_length=1, max_length=len(WEBHOOK_TYPES))
    active: bool | None = None
    description: str | None = Field(None, max_length=200)

    @field_validator("event_types")
    @classmethod
    def _known(cls, types: list[str] | None) -> list[str] | None:
        return None if types is None else _known_types(types)


class WebhookRead(Created):
    url: str
    event_types: list[str]
    scope: Literal["own", "all"]
    active: bool
    description: Text = ""
    owner_id: str
    updated_at: OptionalStoredTime = None
    # after a rotation the previous secret signs too, until then
    previous_secret_expires_at: OptionalStoredTime = None


class WebhookSecret(WebhookRead):
    """A webhook with its signing secret: answered once, on creation and on rotation."""

    secret: str
