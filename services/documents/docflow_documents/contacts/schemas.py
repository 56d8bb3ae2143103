"""Contacts in and out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from docflow_documents.sharing.schemas import Email
from docflow_documents.stored import stored_time


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email


class ContactRead(BaseModel):
    id: str
    user_id: str
    email: str
    full_name: str
    created_at: datetime

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], person: Mapping[str, str] | None = None) -> ContactRead:
        person = person or {}
        return cls(id=str(doc["_id"]), user_id=str(doc["contact_user_id"]),
                   email=person.get("email") or str(doc["email"]),
                   full_name=person.get("full_name") or str(doc.get("full_name", "")),
                   created_at=stored_time(doc["created_at"]))
