"""Contacts in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from docflow_documents.sharing.schemas import Email
from docflow_shared.mongo import stored_datetime


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
    def from_doc(cls, doc: dict[str, Any], person: dict[str, str] | None = None) -> ContactRead:
        person = person or {}
        return cls(id=doc["_id"], user_id=doc["contact_user_id"], email=person.get("email") or doc["email"],
                   full_name=person.get("full_name") or doc.get("full_name", ""),
                   created_at=stored_datetime(doc["created_at"]))  # type: ignore[arg-type]
