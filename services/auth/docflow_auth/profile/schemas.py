"""Profile payloads."""

from __future__ import annotations

from pydantic import BaseModel

from docflow_auth.accounts.schemas import Locale, Password, Strict
from docflow_auth.security.identifiers import Email, FullName, Iin, Phone


class UserUpdate(Strict):
    """Only the fields sent change; ``phone`` / ``iin`` set to null are removed."""

    full_name: FullName | None = None
    phone: Phone | None = None
    iin: Iin | None = None
    locale: Locale | None = None


class EmailChange(Strict):
    password: Password
    new_email: Email


class AccountDelete(Strict):
    password: Password


class UserLookupRead(BaseModel):
    id: str
    full_name: str
    email: str
