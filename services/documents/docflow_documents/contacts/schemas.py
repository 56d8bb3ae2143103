"""Contacts in and out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from docflow_documents.sharing.schemas import Email
from docflow_shared.stored import Created, Text


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email


class ContactRead(Created):
    user_id: str = Field(validation_alias=AliasChoices("contact_user_id", "user_id"))
    email: str
    full_name: Text = ""

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], person: Mapping[str, str] | None = None) -> Self:
        """A stored contact, shown with the address and name the person has now when they are known."""
        known = {key: value for key, value in (person or {}).items() if value}
        return cls.model_validate({**doc, **known})
