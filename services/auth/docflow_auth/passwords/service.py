"""Forgot (always 202), reset by single-use token, change with the current password."""

from __future__ import annotations

from datetime import timedelta

from docflow_auth.accounts import events
from docflow_auth.accounts.events import PasswordChangeReason
from docflow_auth.context import AuthContext
from docflow_auth.passwords.schemas import PasswordChange, PasswordReset
from docflow_auth.profile.service import confirm_password, load_user, require_live_session
from docflow_auth.security.passwords import password_problems
from docflow_auth.security.secrets import new_token, token_hash
from docflow_shared.errors import BadRequest, Unprocessable, field_error
from docflow_shared.mongo import stored_datetime, utc_now
from docflow_shared.outbox import Whole, retry_stale
from docflow_shared.tokens import Principal


def check_policy(password: str, email: str) -> None:
    problems = password_problems(password, email)
    if problems:
        raise Unprocessable("The new password is not acceptable.", slug="validation",
                            errors=[field_error("new_password", " ".join(problems), "password_policy")])


async def forgot(auth: AuthContext, email: str) -> None:
    """Sends a reset token when the account exists; the answer is the same either way."""
    settings = auth.settings
    await auth.throttle.check("forgot", email, limit=settings.forgot_rate_limit, window=settings.forgot_rate_window)

    async def attempt() -> None:
        user = await auth.users.by_email(email)
        if user is None or user.get("blocked"):
            return
        token = new_token()
        expires_at = utc_now() + timedelta(seconds=settings.reset_ttl)
        event = auth.runtime.event(events.password_reset_requested(user, token=token, expires_at=expires_at,
                                                                   sealer=auth.sealer))
        await auth.users.update(user, {"reset": {"token_hash": token_hash(token), "expires_at": expires_at}},
                                [event])

    await retry_stale(attempt)


async def reset(auth: AuthContext, data: PasswordReset) -> None:
    user = await auth.users.by_token("reset", token_hash(data.token))
    expires_at = stored_datetime(dict(user or {}).get("reset", {}).get("expires_at"))
    if user is None or expires_at is None or expires_at <= utc_now():
        raise BadRequest("The reset link is invalid, used or expired; ask for a new one.", slug="invalid-token")
    check_policy(data.new_password, user["email"])
    password_hash = await auth.passwords.hash(data.new_password)

    async def attempt() -> None:
        current = await auth.users.by_token("reset", token_hash(data.token))
        if current is None:
            raise BadRequest("The reset link is invalid, used or expired; ask for a new one.", slug="invalid-token")
        await _set_password(auth, current, password_hash, reason="reset", unset=["reset", "locked_until"])

    await retry_stale(attempt)
    await auth.sessions.revoke_for_user(user["_id"], reason="password-reset", now=utc_now())


async def change(auth: AuthContext, principal: Principal, data: PasswordChange) -> None:
    user = await load_user(auth, principal)
    await require_live_session(auth, principal)
    await confirm_password(auth, user, data.current_password, field="current_password")
    check_policy(data.new_password, user["email"])
    password_hash = await auth.passwords.hash(data.new_password)

    async def attempt() -> None:
        await _set_password(auth, await load_user(auth, principal), password_hash, reason="changed",
                            kept_session_id=principal.session_id)

    await retry_stale(attempt)
    await auth.sessions.revoke_for_user(user["_id"], reason="password-changed", now=utc_now(),
                                        keep=principal.session_id)


async def _set_password(auth: AuthContext, user: Whole, password_hash: str, *, reason: PasswordChangeReason,
                        unset: list[str] | None = None, kept_session_id: str | None = None) -> None:
    at = utc_now()
    event = auth.runtime.event(events.password_changed(user, at=at, reason=reason,
                                                       kept_session_id=kept_session_id))
    await auth.users.update(user, {"password_hash": password_hash, "password_changed_at": at, "updated_at": at,
                                   "failed_logins": 0}, [event], unset=unset or [])
