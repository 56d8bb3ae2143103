"""The account's login lockout: password checks are counted per account, and the check that
reaches ``lockout_threshold`` locks it for ``lockout_minutes`` (423 until then)."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from docflow_auth.accounts import events
from docflow_auth.context import AuthContext
from docflow_auth.errors import AccountLocked
from docflow_shared.errors import Unauthorized
from docflow_shared.mongo import Document, stored_datetime, utc_now
from docflow_shared.outbox import StaleDocument, Whole, retry_stale

BAD_CREDENTIALS = "The e-mail or password is wrong."


async def check_password(auth: AuthContext, user: Document, password: str) -> Whole | None:
    """One counted password check: the account as counted when ``password`` matches it, else
    None (the failure recorded). 423 when the account is locked, or when this failure locks it."""
    ensure_not_locked(user)
    counted = await claim_attempt(auth, user)
    if not await auth.passwords.verify(counted["password_hash"], password):
        await record_failed_login(auth, counted)
        return None
    await clear_failures(auth, counted["_id"])
    return counted


def ensure_not_locked(user: Document) -> None:
    until = stored_datetime(user.get("locked_until"))
    if until is not None and until > utc_now():
        wait = int((until - utc_now()).total_seconds()) + 1
        raise AccountLocked(f"Too many failed logins; the account is locked until {until.isoformat()}.",
                            slug="account-locked", headers={"Retry-After": str(wait)})


async def claim_attempt(auth: AuthContext, user: Document) -> Whole:
    """Count a password check before it runs (one atomic update), so parallel guesses cannot
    all pass the lock check first: at most ``lockout_threshold`` checks run, the rest get 423.
    Answers the user as counted."""
    limit = auth.settings.lockout_threshold
    for _ in range(3):
        claimed = await auth.users.claim_login_attempt(user["_id"], limit=limit)
        if claimed is not None:
            return claimed
        current = await auth.users.get(user["_id"])
        if current is None:
            raise Unauthorized(BAD_CREDENTIALS, slug="invalid-credentials")
        ensure_not_locked(current)
        if current.get("locked_until") is None:
            break  # the last allowed check is running; its failure locks the account
        with contextlib.suppress(StaleDocument):  # the lock has run out: start counting afresh
            await auth.users.update(current, {"failed_logins": 0}, unset=["locked_until"])
    wait = auth.settings.lockout_minutes * 60
    raise AccountLocked("Too many failed logins; the account is locked.", slug="account-locked",
                        headers={"Retry-After": str(wait)})


async def record_failed_login(auth: AuthContext, counted: Document) -> None:
    """After a wrong password counted by ``claim_attempt``: the check that reaches the threshold
    locks the account and announces it (423)."""
    settings = auth.settings
    failures = int(counted.get("failed_logins", 0) or 0)
    if failures < settings.lockout_threshold:
        return

    async def attempt() -> Document | None:
        user = await auth.users.get(counted["_id"])
        if user is None:
            return None
        until = utc_now() + timedelta(minutes=settings.lockout_minutes)
        event = auth.runtime.event(events.locked(user, until=until, attempts=failures))
        return await auth.users.update(user, {"failed_logins": 0, "locked_until": until}, [event])

    locked_user = await retry_stale(attempt)
    if locked_user is not None:
        ensure_not_locked(locked_user)


async def clear_failures(auth: AuthContext, user_id: str) -> None:
    """A correct password resets the count of failed checks."""
    await auth.users.clear_failures(user_id)
