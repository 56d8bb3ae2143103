"""Auth's own titles for problems a client should tell apart at a glance."""

from __future__ import annotations

from collections.abc import Sequence

from docflow_shared.errors import Conflict, Forbidden, Locked, field_error


class AccountLocked(Locked):
    title = "Account locked"


class AccountBlocked(Forbidden):
    title = "Account blocked"


def account_exists(fields: Sequence[str], detail: str | None = None) -> Conflict:
    """409 ``account-exists``, naming each field (email, phone, iin) another account already holds."""
    return Conflict(detail or "An account with this " + " / ".join(fields) + " already exists.",
                    slug="account-exists", errors=[field_error(f, "Already registered.", "duplicate") for f in fields])
