"""The caller's own profile; confirming the password for sensitive changes."""

from __future__ import annotations

from typing import Any

from docflow_auth.accounts import events, lockout
from docflow_auth.accounts.schemas import UserRead
from docflow_auth.accounts.service import delete_account, start_verification
from docflow_auth.context import AuthContext
from docflow_auth.errors import AccountBlocked, account_exists
from docflow_auth.profile.schemas import AccountDelete, EmailChange, UserLookupRead, UserUpdate
from docflow_shared.errors import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable, field_error
from docflow_shared.mongo import Document, utc_now
from docflow_shared.outbox import Whole, retry_stale
from docflow_shared.tokens import Principal


async def load_user(auth: AuthContext, principal: Principal) -> Whole:
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
    if await lockout.check_password(auth, user, password) is None:
        raise Forbidden("The password is wrong.", slug="wrong-password",
                        errors=[field_error(field, "The password is wrong.", "wrong_password")])


async def me(auth: AuthContext, principal: Principal) -> UserRead:
    return UserRead.from_doc(await load_user(auth, principal))


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
            return UserRead.from_doc(user)
        taken = await auth.users.taken(changes, exclude_id=user["_id"])
        if taken:
            raise account_exists(taken, "Another account already uses this " + " / ".join(taken) + ".")
        if "full_name" in changes:
            changes["search_name"] = changes["full_name"].lower()
        changes["updated_at"] = utc_now()
        after = {k: v for k, v in {**user, **changes}.items() if k not in unset}
        saved = await auth.users.update(user, changes, [auth.runtime.event(events.updated(after))], unset=unset)
        return UserRead.from_doc(saved)

    return await retry_stale(attempt)


async def change_email(auth: AuthContext, principal: Principal, data: EmailChange) -> UserRead:
    """The new address waits in ``pending_email`` and gets the code; ``email`` (and login with
    it) stays as it is until that code or link is used, so nobody receives anything addressed to
    an address they have not proved to own. Changes per account are limited: each one sends a
    fresh code."""
    user = await load_user(auth, principal)
    await require_live_session(auth, principal)
    await confirm_password(auth, user, data.password)
    settings = auth.settings
    await auth.throttle.check("email-change", user["_id"], limit=settings.email_change_rate_limit,
                              window=settings.email_change_rate_window)
    if data.new_email == user["email"]:
        raise Conflict("This is already your e-mail address.", slug="same-email")
    if await auth.users.taken({"email": data.new_email}, exclude_id=user["_id"]):
        raise account_exists(["new_email"], "Another account already uses this e-mail.")

    async def attempt() -> UserRead:
        current = await load_user(auth, principal)
        fields, requested = start_verification(auth, current, data.new_email)
        changes = {"pending_email": data.new_email, "updated_at": utc_now(), **fields}
        return UserRead.from_doc(await auth.users.update(current, changes, [requested]))

    return await retry_stale(attempt)


async def delete_me(auth: AuthContext, principal: Principal, data: AccountDelete) -> None:
    """Soft delete: e-mail, phone and IIN are freed at once; the document goes after user.deleted."""
    user = await load_user(auth, principal)
    await require_live_session(auth, principal)
    await confirm_password(auth, user, data.password)
    await delete_account(auth, principal.user_id, reason="account-deleted")


async def lookup(auth: AuthContext, principal: Principal, email: str) -> UserLookupRead:
    """Only a caller with a verified address may look others up, and only verified accounts are
    found: an unverified claim to an address is answered as no account at all."""
    caller = await load_user(auth, principal)
    if not caller.get("email_verified"):
        raise Forbidden("Confirm your e-mail address before looking up other users.", slug="email-not-verified")
    user = await auth.users.verified_holder(email)
    if user is None or user.get("blocked"):
        raise NotFound("No account uses this e-mail.")
    return UserLookupRead(id=user["_id"], full_name=user["full_name"], email=user["email"])
