"""Signup, availability and e-mail verification."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from docflow_auth.accounts import events
from docflow_auth.accounts.schemas import (
    AvailabilityRead,
    EmailCodeVerify,
    SignupCreate,
    UserRead,
    VerificationRead,
)
from docflow_auth.clock import now
from docflow_auth.context import AuthContext
from docflow_auth.security.secrets import new_code, new_id, new_token, token_hash
from docflow_shared.errors import BadRequest, Conflict, field_error
from docflow_shared.events import Event
from docflow_shared.mongo import Document, stored_datetime
from docflow_shared.outbox import retry_stale

INVALID_CODE = "The code is wrong or has expired; ask for a new one."


def start_verification(auth: AuthContext, user: Document) -> tuple[dict[str, Any], Event]:
    """Fields storing a fresh code and link token (hashed) and the event that carries them."""
    code, token = new_code(), new_token()
    expires_at = now() + timedelta(seconds=auth.settings.verification_ttl)
    fields = {"verification": {
        "code_hash": auth.secret.code_hash("verify-email", user["_id"], code),
        "token_hash": token_hash(token), "email": user["email"], "expires_at": expires_at, "attempts": 0,
    }}
    event = auth.runtime.event(events.verification_requested(user, code=code, token=token,
                                                             expires_at=expires_at))
    return fields, event


async def signup(auth: AuthContext, data: SignupCreate) -> UserRead:
    taken = await auth.users.taken({"email": data.email, "phone": data.phone, "iin": data.iin})
    if taken:
        raise Conflict("An account with this " + " / ".join(taken) + " already exists.",
                       slug="account-exists", errors=[field_error(f, "Already registered.", "duplicate")
                                                       for f in taken])
    created = now()
    user: Document = {
        "_id": new_id("u"), "email": data.email, "full_name": data.full_name,
        "search_name": data.full_name.lower(), "locale": data.locale, "role": "user", "blocked": False,
        "email_verified": False, "failed_logins": 0, "created_at": created, "updated_at": created,
        "password_hash": await auth.passwords.hash(data.password), "password_changed_at": created,
    }
    if data.phone:
        user["phone"] = data.phone
    if data.iin:
        user["iin"] = data.iin
    fields, requested = start_verification(auth, user)
    user.update(fields)
    await auth.users.insert(user, [auth.runtime.event(events.registered(user)), requested])
    return UserRead.of(user)


async def availability(auth: AuthContext, *, email: str | None, phone: str | None,
                       iin: str | None) -> AvailabilityRead:
    asked = {"email": email, "phone": phone, "iin": iin}
    if not any(asked.values()):
        raise BadRequest("Ask about at least one of email, phone, iin.", slug="nothing-to-check")
    taken = set(await auth.users.taken(asked))
    return AvailabilityRead(**{k: k not in taken for k, v in asked.items() if v})


async def verify_code(auth: AuthContext, data: EmailCodeVerify) -> VerificationRead:
    async def attempt() -> VerificationRead:
        user = await auth.users.by_email(data.email)
        pending = _pending(user)
        if user is None or pending is None:
            raise BadRequest(INVALID_CODE, slug="invalid-code")
        expected = auth.secret.code_hash("verify-email", user["_id"], data.code)
        if not auth.secret.same(expected, str(pending.get("code_hash", ""))):
            attempts = int(pending.get("attempts", 0)) + 1
            if attempts >= auth.settings.verification_attempts:
                await auth.users.update(user, {"updated_at": now()}, unset=["verification"])
            else:
                await auth.users.update(user, {"verification.attempts": attempts})
            raise BadRequest(INVALID_CODE, slug="invalid-code")
        return await _mark_verified(auth, user)

    return await retry_stale(attempt)


async def verify_token(auth: AuthContext, token: str) -> VerificationRead:
    async def attempt() -> VerificationRead:
        user = await auth.users.by_token("verification", token_hash(token))
        if user is None or _pending(user) is None:
            raise BadRequest("The link is invalid, used or expired; ask for a new one.", slug="invalid-token")
        return await _mark_verified(auth, user)

    return await retry_stale(attempt)


async def resend(auth: AuthContext, email: str) -> None:
    """Always answers the same way (no enumeration); sends only to unverified accounts."""
    settings = auth.settings
    if await auth.throttle.allow("resend", email, limit=settings.resend_rate_limit,
                                 window=settings.resend_rate_window):
        return

    async def attempt() -> None:
        user = await auth.users.by_email(email)
        if user is None or user.get("email_verified") or user.get("blocked"):
            return
        fields, event = start_verification(auth, user)
        await auth.users.update(user, {**fields, "updated_at": now()}, [event])

    await retry_stale(attempt)


def _pending(user: Document | None) -> dict[str, Any] | None:
    if user is None:
        return None
    pending = user.get("verification")
    if not isinstance(pending, dict) or pending.get("email") != user.get("email"):
        return None
    expires_at = stored_datetime(pending.get("expires_at"))
    if expires_at is None or expires_at <= now():
        return None
    return pending


async def _mark_verified(auth: AuthContext, user: Document) -> VerificationRead:
    changed = await auth.users.update(
        user, {"email_verified": True, "email_verified_at": now(), "updated_at": now()},
        [auth.runtime.event(events.email_verified(user))], unset=["verification"],
    )
    await auth.sessions.sync_claims(user["_id"], email_verified=True)
    return VerificationRead(email=changed["email"], email_verified=True)
