"""Standing deputy API models."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from docflow_shared.stored import OptionalStoredTime, StoredRead

Email = Annotated[str, Field(min_length=3, max_length=320, json_schema_extra={"format": "email"})]


class DeputyPut(BaseModel):
    """While the period lasts, new requests to you reach the deputy, who acts on your behalf."""

    email: Email
    starts_at: AwareDatetime | None = None
    until: AwareDatetime

    @model_validator(mode="after")
    def _valid(self) -> DeputyPut:
        if "@" not in self.email:
            raise ValueError("email must be an e-mail address")
        if self.starts_at is not None and self.starts_at >= self.until:
            raise ValueError("starts_at must come before until")
        return self


class DeputyRead(StoredRead):
    email: str
    starts_at: OptionalStoredTime
    until: OptionalStoredTime
    active: bool
