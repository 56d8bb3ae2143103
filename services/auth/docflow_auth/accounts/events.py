"""The user.* events auth publishes, built from a stored user document."""

from __future__ import annotations

from datetime import datetime

from docflow_shared.events import EventPayload
from docflow_shared.events.catalogue import (
    UserDeleted,
    UserEmailVerificationRequested,
    UserEmailVerified,
    UserLocked,
    UserPasswordChanged,
    UserPasswordResetRequested,
    UserRegistered,
    UserRoleChanged,
    UserUpdated,
)
from docflow_shared.mongo import Document


def _person(user: Document) -> dict[str, str]:
    return {"user_id": user["_id"], "email": user["email"], "full_name": user["full_name"],
            "locale": user.get("locale", "ru")}


def registered(user: Document) -> EventPayload:
    return UserRegistered(**_person(user), phone=user.get("phone"), iin=user.get("iin"),
                          role=user.get("role", "user"))


def verification_requested(user: Document, *, code: str, token: str, expires_at: datetime) -> EventPayload:
    return UserEmailVerificationRequested(**_person(user), code=code, token=token, expires_at=expires_at)


def email_verified(user: Document) -> EventPayload:
    return UserEmailVerified(user_id=user["_id"], email=user["email"])


def password_reset_requested(user: Document, *, token: str, expires_at: datetime) -> EventPayload:
    return UserPasswordResetRequested(**_person(user), token=token, expires_at=expires_at)


def password_changed(user: Document, *, at: datetime, reason: str) -> EventPayload:
    return UserPasswordChanged(**_person(user), changed_at=at, reason=reason)  # type: ignore[arg-type]


def locked(user: Document, *, until: datetime, attempts: int) -> EventPayload:
    return UserLocked(**_person(user), locked_until=until, failed_attempts=attempts)


def updated(user: Document) -> EventPayload:
    return UserUpdated(**_person(user), phone=user.get("phone"), iin=user.get("iin"),
                       email_verified=bool(user.get("email_verified")))


def role_changed(user: Document, *, previous_role: str) -> EventPayload:
    return UserRoleChanged(user_id=user["_id"], role=user.get("role", "user"), previous_role=previous_role,
                           blocked=bool(user.get("blocked")))


def deleted(user_id: str, *, at: datetime) -> EventPayload:
    return UserDeleted(user_id=user_id, deleted_at=at)
