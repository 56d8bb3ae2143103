"""Login with lockout, refresh rotation with reuse detection, logout, the session list."""

from __future__ import annotations

from datetime import datetime, timedelta

from docflow_auth.accounts import events
from docflow_auth.clock import now
from docflow_auth.context import AuthContext
from docflow_auth.errors import AccountBlocked, AccountLocked
from docflow_auth.security.secrets import new_id, token_hash
from docflow_auth.sessions.schemas import LoginCreate, SessionList, SessionRead
from docflow_auth.sessions.tokens import (
    IssuedTokens,
    access_token,
    new_refresh_token,
    parse_refresh_token,
)
from docflow_shared.errors import NotFound, Unauthorized
from docflow_shared.mongo import Document, stored_datetime
from docflow_shared.outbox import retry_stale
from docflow_shared.tokens import Principal

BAD_CREDENTIALS = "The e-mail or password is wrong."


async def login(auth: AuthContext, data: LoginCreate, *, user_agent: str | None, ip: str | None) -> IssuedTokens:
    settings = auth.settings
    await auth.throttle.check("login", data.email, limit=settings.login_rate_limit,
                              window=settings.login_rate_window)
    user = await auth.users.by_email(data.email)
    if user is not None:
        ensure_not_locked(user)
    ok = await auth.passwords.verify(user["password_hash"] if user else None, data.password)
    if user is None:
        raise Unauthorized(BAD_CREDENTIALS, slug="invalid-credentials")
    if not ok:
        await record_failure(auth, user["_id"])
        raise Unauthorized(BAD_CREDENTIALS, slug="invalid-credentials")
    if user.get("blocked"):
        raise AccountBlocked("This account is blocked; contact an administrator.", slug="account-blocked")
    await _after_success(auth, user, data.password)
    return await start_session(auth, user, user_agent=user_agent, ip=ip)


def ensure_not_locked(user: Document) -> None:
    until = stored_datetime(user.get("locked_until"))
    if until is not None and until > now():
        wait = int((until - now()).total_seconds()) + 1
        raise AccountLocked(f"Too many failed logins; the account is locked until {until.isoformat()}.",
                     slug="account-locked", headers={"Retry-After": str(wait)})


async def record_failure(auth: AuthContext, user_id: str) -> None:
    """Count a failed password; at the threshold lock the account and announce it (423)."""
    settings = auth.settings

    async def attempt() -> Document | None:
        user = await auth.users.get(user_id)
        if user is None:
            return None
        failures = int(user.get("failed_logins", 0) or 0) + 1
        if failures < settings.lockout_threshold:
            await auth.users.update(user, {"failed_logins": failures})
            return None
        until = now() + timedelta(minutes=settings.lockout_minutes)
        event = auth.runtime.event(events.locked(user, until=until, attempts=failures))
        return await auth.users.update(user, {"failed_logins": 0, "locked_until": until}, [event])

    locked_user = await retry_stale(attempt)
    if locked_user is not None:
        ensure_not_locked(locked_user)


async def _after_success(auth: AuthContext, user: Document, password: str) -> None:
    changes: dict[str, object] = {}
    if user.get("failed_logins"):
        changes["failed_logins"] = 0
    if auth.passwords.needs_rehash(user["password_hash"]):
        changes["password_hash"] = await auth.passwords.hash(password)
    if changes:
        await retry_stale(lambda: _apply_fresh(auth, user["_id"], changes))


async def _apply_fresh(auth: AuthContext, user_id: str, changes: dict[str, object]) -> None:
    current = await auth.users.get(user_id)
    if current is not None:
        await auth.users.update(current, changes)


async def start_session(auth: AuthContext, user: Document, *, user_agent: str | None,
                        ip: str | None) -> IssuedTokens:
    settings = auth.settings
    created = now()
    session_id = new_id("s")
    refresh = new_refresh_token(auth, session_id, 0)
    absolute = created + timedelta(seconds=settings.refresh_absolute_ttl)
    expires = min(created + timedelta(seconds=settings.refresh_token_ttl), absolute)
    await auth.sessions.create({
        "_id": session_id, "user_id": user["_id"], "role": user.get("role", "user"),
        "email_verified": bool(user.get("email_verified")), "token_hash": token_hash(refresh.value),
        "generation": 0, "created_at": created, "last_used_at": created, "expires_at": expires,
        "absolute_expires_at": absolute, "expires_ts": expires.timestamp(),
        "absolute_ts": absolute.timestamp(), "purge_at": absolute + timedelta(days=1), "revoked_at": None,
        "user_agent": (user_agent or "")[:300] or None, "ip": ip,
    })
    return _issue(auth, user["_id"], user.get("role", "user"), bool(user.get("email_verified")),
                  session_id, refresh.value, expires, created)


def _issue(auth: AuthContext, user_id: str, role: str, email_verified: bool, session_id: str,
           refresh_value: str, expires: datetime, at: datetime) -> IssuedTokens:
    return IssuedTokens(
        access_token=access_token(auth, user_id=user_id, role=role, email_verified=email_verified,
                                  session_id=session_id),
        refresh_token=refresh_value, expires_in=auth.settings.access_token_ttl,
        refresh_max_age=max(1, int((expires - at).total_seconds())),
    )


async def refresh(auth: AuthContext, value: str) -> IssuedTokens:
    """Rotate: the presented token is spent, a new one of the next generation is issued."""
    presented = parse_refresh_token(auth, value)
    at = now()
    successor = new_refresh_token(auth, presented.session_id, presented.generation + 1)
    cap = at + timedelta(seconds=auth.settings.refresh_token_ttl)
    session = await auth.sessions.rotate(
        presented.session_id, old_hash=token_hash(value), new_hash=token_hash(successor.value),
        generation=successor.generation, now=at, expires_at=cap,
    )
    if session is None:
        await _refused(auth, presented.session_id, presented.generation, at)
        raise Unauthorized("The refresh token is not valid.", slug="invalid-refresh-token")
    absolute = stored_datetime(session["absolute_expires_at"])
    expires = min(cap, absolute) if absolute else cap
    return _issue(auth, session["user_id"], session.get("role", "user"), bool(session.get("email_verified")),
                  session["_id"], successor.value, expires, at)


async def _refused(auth: AuthContext, session_id: str, generation: int, at: datetime) -> None:
    session = await auth.sessions.get(session_id)
    if session is None:
        return
    if session.get("revoked_at") is not None:
        raise Unauthorized("This session has ended; log in again.", slug="session-revoked")
    expires, absolute = stored_datetime(session.get("expires_at")), stored_datetime(session.get("absolute_expires_at"))
    if (expires and expires <= at) or (absolute and absolute <= at):
        raise Unauthorized("This session has expired; log in again.", slug="session-expired")
    if generation <= int(session.get("generation", 0)):
        await auth.sessions.revoke(session_id, reason="refresh-token-reuse", now=at)
        raise Unauthorized("This refresh token was already used; the session has been ended.",
                           slug="refresh-token-reused")


async def logout(auth: AuthContext, *, refresh_value: str | None, session_id: str | None) -> None:
    """End one family: the refresh token's, else the calling access token's session."""
    if refresh_value:
        try:
            session_id = parse_refresh_token(auth, refresh_value).session_id
        except Unauthorized:
            return
    if session_id:
        await auth.sessions.revoke(session_id, reason="logout", now=now())


async def list_sessions(auth: AuthContext, principal: Principal) -> SessionList:
    docs = await auth.sessions.live_for_user(principal.user_id, now=now())
    return SessionList(items=[_session_read(d, principal) for d in docs])


def _session_read(doc: Document, principal: Principal) -> SessionRead:
    at = now()
    return SessionRead(
        id=doc["_id"], created_at=stored_datetime(doc["created_at"]) or at,
        last_used_at=stored_datetime(doc.get("last_used_at")),
        expires_at=min(stored_datetime(doc["expires_at"]) or at, stored_datetime(doc["absolute_expires_at"]) or at),
        user_agent=doc.get("user_agent"), ip=doc.get("ip"), current=doc["_id"] == principal.session_id,
    )


async def revoke_session(auth: AuthContext, principal: Principal, session_id: str) -> None:
    if not await auth.sessions.revoke(session_id, reason="revoked-by-user", now=now(),
                                      user_id=principal.user_id):
        raise NotFound("No such session.")
