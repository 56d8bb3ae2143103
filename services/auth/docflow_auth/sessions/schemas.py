"""Login, refresh and logout payloads; tokens and sessions as the client sees them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from docflow_auth.security.identifiers import Email
from docflow_shared.stored import Created, OptionalStoredTime, StoredTime

Transport = Literal["bearer", "cookie"]


class LoginCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    transport: Transport | None = None


class RefreshCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str | None, Field(max_length=512)] = None
    transport: Transport | None = None


class LogoutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str | None, Field(max_length=512)] = None


class TokenRead(BaseModel):
    """With cookie transport the tokens travel only in HttpOnly cookies (fields are null)."""

    access_token: str | None
    refresh_token: str | None
    token_type: str = "Bearer"
    expires_in: int
    transport: Transport = "bearer"
    csrf_token: str | None = None


class SessionRead(Created):
    last_used_at: OptionalStoredTime = None
    expires_at: StoredTime
    user_agent: str | None = None
    ip: str | None = None
    current: bool = False


class SessionList(BaseModel):
    items: list[SessionRead]
