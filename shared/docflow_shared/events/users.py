"""Events of auth: ``user.*`` and ``session.revoked`` (catalogue v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from docflow_shared.events.envelope import EventPayload
from docflow_shared.events.facts import AccountFacts


class UserRegistered(AccountFacts):
    TYPE = "user.registered"
    phone: str | None = None
    iin: str | None = None
    role: str = "user"


class UserEmailVerificationRequested(AccountFacts):
    """The code and link token travel sealed for mail in ``sealed`` (docflow_shared.sealed);
    the plain ``code`` and ``token`` fields stay empty."""

    TYPE = "user.email_verification_requested"
    code: str = ""
    token: str = ""
    expires_at: datetime
    sealed: str = ""


class UserEmailVerified(EventPayload):
    TYPE = "user.email_verified"
    user_id: str
    email: str


class UserPasswordResetRequested(AccountFacts):
    """The reset token travels sealed for mail in ``sealed``; the plain ``token`` stays empty."""

    TYPE = "user.password_reset_requested"
    token: str = ""
    expires_at: datetime
    sealed: str = ""


class UserPasswordChanged(AccountFacts):
    TYPE = "user.password_changed"
    changed_at: datetime
    reason: Literal["changed", "reset"] = "changed"
    # The session that changed the password and lives on; every other token is refused.
    kept_session_id: str | None = None


class UserLocked(AccountFacts):
    TYPE = "user.locked"
    locked_until: datetime
    failed_attempts: int


class UserUpdated(AccountFacts):
    TYPE = "user.updated"
    phone: str | None = None
    iin: str | None = None
    email_verified: bool = False


class UserRoleChanged(EventPayload):
    TYPE = "user.role_changed"
    user_id: str
    role: str
    previous_role: str
    blocked: bool = False


class UserBlocked(EventPayload):
    """An admin blocked the account: every token issued before ``blocked_at`` is refused."""

    TYPE = "user.blocked"
    user_id: str
    blocked_at: datetime


class SessionRevoked(EventPayload):
    """A session ended (logout, revoked by its owner, refresh-token reuse): its access tokens
    are refused from now on."""

    TYPE = "session.revoked"
    session_id: str
    user_id: str
    revoked_at: datetime
    reason: str = ""


class UserDeleted(EventPayload):
    TYPE = "user.deleted"
    user_id: str
    deleted_at: datetime
