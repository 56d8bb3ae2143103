"""Auth's own titles for problems a client should tell apart at a glance."""

from __future__ import annotations

from docflow_shared.errors import Forbidden, Locked


class AccountLocked(Locked):
    title = "Account locked"


class AccountBlocked(Forbidden):
    title = "Account blocked"
