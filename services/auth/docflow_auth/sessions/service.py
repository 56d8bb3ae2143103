"""Login with lockout, refresh rotation with reuse detection, logout, the session list."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import Request

from docflow_auth.accounts import events, lockout
from docflow_auth.accounts.lockout import BAD_CREDENTIALS
from docflow_auth.context import AuthContext
from docflow_auth.errors import AccountBlocked, AccountLocked
from docflow_auth.security.cookies import refresh_cookie
from docflow_auth.security.secrets import token_hash
from docflow_auth.sessions.schemas import LoginCreate, SessionList, SessionRead
from docflow_auth.sessions.tokens import (
    IssuedTokens,
    access_token,
    new_refresh_token,
    parse_refresh_token,
    successor_of,
)
from docflow_shared.errors import NotFound, Unauthorized
from docflow_shared.ids import new_id
from docflow_shared.mongo import Document, stored_datetime, utc_now
from docflow_shared.outbox import retry_stale
from docflow_shared.stored import stored_time
from docflow_shared.tokens import Principal, bearer_token


async def login(auth: AuthContext, data: LoginCreate, *, user_agent: str | None, ip: str | None) -> IssuedTokens:
    """The address's verified holder logs in with it; while nobody has verified it, each account
    that signed up with it unverified (its owner, perhaps a squatter too) is tried, oldest first,
    and the one whose password matches logs in."""
    settings = auth.settings
    await auth.throttle.check("login", data.email, limit=settings.login_rate_limit,
                              window=settings.login_rate_window)
    candidates = await auth.users.holders(data.email)
    if not candidates:
        await auth.passwords.verify(None, data.password)  # the same work as for a known address
        raise Unauthorized(BAD_CREDENTIALS, slug="invalid-credentials")
    refusal: Exception = Unauthorized(BAD_CREDENTIALS, slug="invalid-credentials")
    for candidate in candidates:
        try:
            user = await lockout.check_password(auth, candidate, data.password)
        except (AccountLocked, Unauthorized) as exc:
            if len(candidates) == 1 or isinstance(exc, AccountLocked):
                refusal = exc
            continue
        if user is None:
            continue  # a wrong password: the refusal stays 401 invalid-credentials
        if user.get("blocked"):
            raise AccountBlocked("This account is blocked; contact an administrator.", slug="account-blocked")
        await _after_success(auth, user, data.password)
        return await start_session(auth, user, user_agent=user_agent, ip=ip)
    raise refusal


async def _after_success(auth: AuthContext, user: Document, password: str) -> None:
    if auth.passwords.needs_rehash(user["password_hash"]):
        changes: dict[str, object] = {"password_hash": await auth.passwords.hash(password)}
        await retry_stale(lambda: _apply_fresh(auth, user["_id"], changes))


async def _apply_fresh(auth: AuthContext, user_id: str, changes: dict[str, object]) -> None:
    current = await auth.users.get(user_id)
    if current is not None:
        await auth.users.update(current, changes)


async def start_session(auth: AuthContext, user: Document, *, user_agent: str | None,
                        ip: str | None) -> IssuedTokens:
    settings = auth.settings
    created = utc_now()
    session_id = new_id("s")
    refresh = new_refresh_token(auth, session_id, 0)
    absolute = created + timedelta(seconds=settings.refresh_absolute_ttl)
    expires = min(created + timedelta(seconds=settings.refresh_token_ttl), absolute)
    await auth.sessions.create({
        "_id": session_id, "user_id": user["_id"], "role": user.get("role", "user"),
        "email_verified": bool(user.get("email_verified")), "token_hash": token_hash(refresh.value),
        "generation": 0, "created_at": created, "last_used_at": created, "expires_at": expires,
        "absolute_expires_at": absolute, "purge_at": absolute + timedelta(days=1), "revoked_at": None,
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


async def refresh(auth: AuthContext, request: Request, *, refresh_token: str | None) -> IssuedTokens:
    """Rotate the refresh token from the body, else from its cookie."""
    value = refresh_token or refresh_cookie(request)
    if not value:
        raise Unauthorized("A refresh token is required.", slug="unauthenticated")
    return await rotate(auth, value)


async def rotate(auth: AuthContext, value: str) -> IssuedTokens:
    """The presented token is spent, a new one of the next generation is issued."""
    presented = parse_refresh_token(auth, value)
    at = utc_now()
    successor = successor_of(auth, presented)
    cap = at + timedelta(seconds=auth.settings.refresh_token_ttl)
    session = await auth.sessions.rotate(
        presented.session_id, old_hash=token_hash(value), new_hash=token_hash(successor.value),
        generation=successor.generation, now=at, expires_at=cap,
    )
    if session is None:
        # a parallel refresh with the same token (another tab) won the rotation just now
        session = await auth.sessions.rotated_within(
            presented.session_id, old_hash=token_hash(value), new_hash=token_hash(successor.value), now=at,
            grace=auth.settings.refresh_grace_seconds,
        )
        if session is not None:
            cap = stored_datetime(session.get("expires_at")) or cap
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
        await revoke(auth, session_id, reason="refresh-token-reuse", at=at)
        raise Unauthorized("This refresh token was already used; the session has been ended.",
                           slug="refresh-token-reused")


async def logout(auth: AuthContext, request: Request, *, refresh_token: str | None) -> None:
    """End one family: the refresh token's (from the body, else its cookie), else the calling
    access token's session."""
    value = refresh_token or refresh_cookie(request)
    if value:
        try:
            session_id: str | None = parse_refresh_token(auth, value).session_id
        except Unauthorized:
            return
    else:
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            raise Unauthorized("A refresh token or an access token is required.", slug="unauthenticated")
        session_id = (await auth.runtime.verifier.verify(token)).session_id
    if session_id:
        await revoke(auth, session_id, reason="logout", at=utc_now())


async def revoke(auth: AuthContext, session_id: str, *, reason: str, at: datetime,
                 user_id: str | None = None) -> bool:
    """End a session and announce it, so every replica refuses its access tokens at once."""
    return await auth.sessions.revoke(
        session_id, reason=reason, now=at, user_id=user_id,
        announce=lambda session: auth.runtime.event(events.session_revoked(session, at=at, reason=reason)),
    )


async def list_sessions(auth: AuthContext, principal: Principal) -> SessionList:
    docs = await auth.sessions.live_for_user(principal.user_id, now=utc_now())
    return SessionList(items=[_session_read(d, principal) for d in docs])


def _session_read(doc: Document, principal: Principal) -> SessionRead:
    """A live session, ending at its idle expiry or its absolute one, whichever comes first."""
    ends = min(stored_time(doc["expires_at"]), stored_time(doc["absolute_expires_at"]))
    return SessionRead.from_doc({**doc, "expires_at": ends, "current": doc["_id"] == principal.session_id})


async def revoke_session(auth: AuthContext, principal: Principal, session_id: str) -> None:
    if not await revoke(auth, session_id, reason="revoked-by-user", at=utc_now(), user_id=principal.user_id):
        raise NotFound("No such session.")
