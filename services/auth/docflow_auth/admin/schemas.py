"""Accounts as administrators see them."""

from __future__ import annotations

from typing import Literal

from docflow_auth.accounts.schemas import Strict, UserRead
from docflow_shared.stored import OptionalStoredTime

Role = Literal["user", "admin"]


class AdminUserRead(UserRead):
    blocked: bool = False
    locked_until: OptionalStoredTime = None
    failed_logins: int = 0
    updated_at: OptionalStoredTime = None


class AdminUserUpdate(Strict):
    role: Role | None = None
    blocked: bool | None = None
