"""The user.* events auth publishes, built from a stored user document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from docflow_shared.events import EventPayload, catalogue
from docflow_shared.mongo import Document
from docflow_shared.sealed import SecretSealer, secret_context


def _person(user: Document) -> dict[str, str]:
    return {"user_id": user["_id"], "email": user["email"], "full_name": user["full_name"],
            "locale": user.get("locale", "ru")}


def registered(user: Document) -> EventPayload:
    return catalogue.UserRegistered(**_person(user), phone=user.get("phone"), iin=user.get("iin"),
                                    role=user.get("role", "user"))


def verification_requested(user: Document, *, address: str, code: str, token: str, expires_at: datetime,
                           sealer: SecretSealer) -> EventPayload:
    """Sent to ``address``: the account's own unverified e-mail, or the one it asked to move to."""
    context = secret_context(catalogue.UserEmailVerificationRequested.TYPE, user["_id"])
    return catalogue.UserEmailVerificationRequested(**{**_person(user), "email": address}, expires_at=expires_at,
                                                    sealed=sealer.seal({"code": code, "token": token}, context=context))


def email_verified(user: Document) -> EventPayload:
    return catalogue.UserEmailVerified(user_id=user["_id"], email=user["email"])


def password_reset_requested(user: Document, *, token: str, expires_at: datetime,
                             sealer: SecretSealer) -> EventPayload:
    context = secret_context(catalogue.UserPasswordResetRequested.TYPE, user["_id"])
    return catalogue.UserPasswordResetRequested(**_person(user), expires_at=expires_at,
                                                sealed=sealer.seal({"token": token}, context=context))


PasswordChangeReason = Literal["changed", "reset"]


def password_changed(user: Document, *, at: datetime, reason: PasswordChangeReason,
                     kept_session_id: str | None = None) -> EventPayload:
    return catalogue.UserPasswordChanged(**_person(user), changed_at=at, reason=reason, kept_session_id=kept_session_id)


def blocked(user: Document, *, at: datetime) -> EventPayload:
    return catalogue.UserBlocked(user_id=user["_id"], blocked_at=at)


def session_revoked(session: Document, *, at: datetime, reason: str) -> EventPayload:
    return catalogue.SessionRevoked(session_id=session["_id"], user_id=session["user_id"], revoked_at=at, reason=reason)


def locked(user: Document, *, until: datetime, attempts: int) -> EventPayload:
    return catalogue.UserLocked(**_person(user), locked_until=until, failed_attempts=attempts)


def updated(user: Document) -> EventPayload:
    return catalogue.UserUpdated(**_person(user), phone=user.get("phone"), iin=user.get("iin"),
                                 email_verified=bool(user.get("email_verified")))


def role_changed(user: Document, *, previous_role: str) -> EventPayload:
    return catalogue.UserRoleChanged(user_id=user["_id"], role=user.get("role", "user"), previous_role=previous_role,
                                     blocked=bool(user.get("blocked")))


def deleted(user_id: str, *, at: datetime) -> EventPayload:
    return catalogue.UserDeleted(user_id=user_id, deleted_at=at)
