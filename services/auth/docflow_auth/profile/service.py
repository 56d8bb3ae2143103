"""The caller's own profile; confirming the password for sensitive changes."""

from __future__ import annotations

from typing import Any

from docflow_auth.accounts import events
from docflow_auth.accounts.schemas import UserRead
from docflow_auth.accounts.service import start_verification
from docflow_auth.clock import now
from docflow_auth.context import AuthContext
from docflow_auth.errors import AccountBlocked
from docflow_auth.profile.schemas import AccountDelete, EmailChange, UserLookupRead, UserUpdate
from docflow_auth.sessions.service import ensure_not_locked, record_failure
from docflow_shared.errors import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable, field_error
from docflow_shared.mongo import Document
from docflow_shared.outbox import retry_stale
from docflow_shared.tokens import Principal


async def load_user(auth: AuthContext, principal: Principal) -> Document:
    """The caller's account; 401 once it is deleted, 403 while it is blocked."""
    user = await auth.users.get(principal.user_id)
    if user is None:
        raise Unauthorized("This account no longer exists.", slug="account-gone")
    if user.get("blocked"):
        raise AccountBlocked("This account is blocked; contact an administrator.", slug="account-blocked")
    return user


async def require_live_session(auth: AuthContext, principal: Principal) -> None:
    """Sensitive changes also need the token's session to be alive (not logged out or revoked)."""
    session = await auth.sessions.get(principal.session_id) if principal.session_id else None
    if session is None or session.get("revoked_at") is not None:
        raise Unauthorized("This session has ended; log in again.", slug="session-revoked")


async def confirm_password(auth: AuthContext, user: Document, password: str, field: str = "password") -> None:
    """Sensitive changes need the password; wrong ones count toward the lockout."""
    ensure_not_locked(user)
    if not await auth.passwords.verify(user["password_hash"], password):
        await record_failure(auth, user["_id"])
        raise Forbidden("The password is wrong.", slug="wrong-password",
                        errors=[field_error(field, "The password is wrong.", "wrong_password")])


async def me(auth: AuthContext, principal: Principal) -> UserRead:
    return UserRead.of(await load_user(auth, principal))


async def update_me(auth: AuthContext, principal: Principal, data: UserUpdate) -> UserRead:
    sent = data.model_dump(exclude_unset=True)
    for name in ("full_name", "locale"):
        if name in sent and sent[name] is None:
            raise Unprocessable("One or more fields are invalid.", errors=[field_error(name, "Must not be null.")])

    async def attempt() -> UserRead:
        user = await load_user(auth, principal)
        changes: dict[str, Any] = {k: v for k, v in sent.items() if v is not None and user.get(k) != v}
        unset = [k for k in ("phone", "iin") if k in sent and sent[k] is None and user.get(k) is not None]
        if not changes and not unset:
            return UserRead.of(user)
        taken = await auth.users.taken(changes, exclude_id=user["_id"])
        if taken:
            raise Conflict("Another account already uses this " + " / ".join(taken) + ".", slug="account-exists",
                           errors=[field_error(f, "Already registered.", "duplicate") for f in taken])
        if "full_name" in changes:
            changes["search_name"] = changes["full_name"].lower()
        changes["updated_at"] = now()
        after = {k: v for k, v in {**user, **changes}.items() if k not in unset}
        saved = await auth.users.update(user, changes, [auth.runtime.event(events.updated(after))], unset=unset)
        return UserRead.of(saved)

    return await retry_stale(attempt)


async def change_email(auth: AuthContext, principal: Principal, data: EmailChange) -> UserRead:
    user = await load_user(auth, principal)
    await require_live_session(auth, principal)
    await confirm_password(auth, user, data.password)
    if data.new_email == user["email"]:
        raise Conflict("This is already your e-mail address.", slug="same-email")
    if await auth.users.taken({"email": data.new_email}, exclude_id=user["_id"]):
        raise Conflict("Another account already uses this e-mail.", slug="account-exists",
                       errors=[field_error("new_email", "Already registered.", "duplicate")])

    async def attempt() -> UserRead:
        current = await load_user(auth, principal)
        after = {**current, "email": data.new_email, "email_verified": False}
        fields, requested = start_verification(auth, after)
        changes = {"email": data.new_email, "email_verified": False, "updated_at": now(), **fields}
        saved = await auth.users.update(current, changes, [auth.runtime.event(events.updated(after)), requested],
                                        unset=["email_verified_at"])
        return UserRead.of(saved)

    result = await retry_stale(attempt)
    await auth.sessions.sync_claims(principal.user_id, email_verified=False)
    return result


async def delete_me(auth: AuthContext, principal: Principal, data: AccountDelete) -> None:
    """Soft delete: e-mail, phone and IIN are freed at once; the document goes after user.deleted."""
    user = await load_user(auth, principal)
    await require_live_session(auth, principal)
    await confirm_password(auth, user, data.password)

    async def attempt() -> None:
        current = await load_user(auth, principal)
        at = now()
        await auth.users.update(
            current, {"deleted_at": at, "updated_at": at}, [auth.runtime.event(events.deleted(current["_id"], at=at))],
            unset=["email", "phone", "iin", "password_hash", "verification", "reset", "full_name", "search_name"],
            purge_when_published=True,
        )

    await retry_stale(attempt)
    await auth.sessions.revoke_for_user(principal.user_id, reason="account-deleted", now=now())


async def lookup(auth: AuthContext, email: str) -> UserLookupRead:
    user = await auth.users.by_email(email)
    if user is None or user.get("blocked"):
        raise NotFound("No account uses this e-mail.")
    return UserLookupRead(id=user["_id"], full_name=user["full_name"], email=user["email"])
