"""Accounts as administrators see them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from docflow_auth.accounts.schemas import Strict, UserRead
from docflow_shared.mongo import Document, stored_datetime

Role = Literal["user", "admin"]


class AdminUserRead(UserRead):
    blocked: bool = False
    locked_until: datetime | None = None
    failed_logins: int = 0
    updated_at: datetime | None = None

    @classmethod
    def of(cls, user: Document) -> AdminUserRead:
        return cls(**UserRead.of(user).model_dump(), blocked=bool(user.get("blocked")),
                   locked_until=stored_datetime(user.get("locked_until")),
                   failed_logins=int(user.get("failed_logins", 0) or 0),
                   updated_at=stored_datetime(user.get("updated_at")))


class AdminUserUpdate(Strict):
    role: Role | None = None
    blocked: bool | None = None
