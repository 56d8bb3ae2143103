"""Signup, availability and e-mail verification."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from docflow_auth.accounts import events
from docflow_auth.accounts.schemas import (
    AvailabilityRead,
    EmailCodeVerify,
    SignupCreate,
    SignupRead,
    UserRead,
    VerificationRead,
)
from docflow_auth.context import AuthContext
from docflow_auth.errors import account_exists
from docflow_auth.security.secrets import new_code, new_token, token_hash
from docflow_auth.sessions.service import start_session
from docflow_shared.errors import BadRequest
from docflow_shared.events import Event
from docflow_shared.ids import new_id
from docflow_shared.mongo import Document, stored_datetime, utc_now
from docflow_shared.outbox import Whole, retry_stale

INVALID_CODE = "The code is wrong or has expired; ask for a new one."
MAX_CLAIM_ROUNDS = 20


def start_verification(auth: AuthContext, user: Document,
                       address: str | None = None) -> tuple[dict[str, Any], Event]:
    """Fields storing a fresh code and link token (hashed) for ``address`` (the account's own
    e-mail unless given) and the event that carries them to that address."""
    address = address or user["email"]
    code, token = new_code(), new_token()
    expires_at = utc_now() + timedelta(seconds=auth.settings.verification_ttl)
    fields = {"verification": {
        "code_hash": auth.secret.code_hash("verify-email", user["_id"], code),
        "token_hash": token_hash(token), "email": address, "expires_at": expires_at,
    }}
    event = auth.runtime.event(events.verification_requested(user, address=address, code=code, token=token,
                                                             expires_at=expires_at, sealer=auth.sealer))
    return fields, event


async def signup_conflicts(auth: AuthContext, values: dict[str, str | None]) -> list[str]:
    """Which of email/phone/iin would make signup answer 409: the only thing availability may tell."""
    return await auth.users.taken(values)


async def signup(auth: AuthContext, data: SignupCreate, *, user_agent: str | None,
                 ip: str | None) -> SignupRead:
    taken = await signup_conflicts(auth, {"email": data.email, "phone": data.phone, "iin": data.iin})
    if taken:
        raise account_exists(taken)
    user = new_user(data, password_hash=await auth.passwords.hash(data.password), at=utc_now())
    fields, requested = start_verification(auth, user)
    user.update(fields)
    await auth.users.insert(user, [auth.runtime.event(events.registered(user)), requested])
    issued = await start_session(auth, user, user_agent=user_agent, ip=ip)
    return SignupRead(**UserRead.from_doc(user).model_dump(), access_token=issued.access_token,
                      refresh_token=issued.refresh_token, expires_in=issued.expires_in)


def new_user(data: SignupCreate, *, password_hash: str, at: datetime, role: str = "user",
             verified: bool = False) -> Document:
    """The document of a new account, as signup stores it. ``verified`` only for an address proved
    by other means (``docflow-auth create-admin``): it then holds ``verified_email`` at once."""
    user: Document = {
        "_id": new_id("u"), "email": data.email, "full_name": data.full_name,
        "search_name": data.full_name.lower(), "locale": data.locale, "role": role, "blocked": False,
        "email_verified": verified, "failed_logins": 0, "created_at": at, "updated_at": at,
        "password_hash": password_hash, "password_changed_at": at,
    }
    if verified:
        user.update(verified_email=data.email, email_verified_at=at)
    if data.phone:
        user["phone"] = data.phone
    if data.iin:
        user["iin"] = data.iin
    return user


async def availability(auth: AuthContext, *, email: str | None, phone: str | None,
                       iin: str | None) -> AvailabilityRead:
    asked = {"email": email, "phone": phone, "iin": iin}
    if not any(asked.values()):
        raise BadRequest("Ask about at least one of email, phone, iin.", slug="nothing-to-check")
    # the very check signup makes, so availability never tells more than signup's 409 would
    taken = set(await signup_conflicts(auth, asked))
    return AvailabilityRead(**{k: k not in taken for k, v in asked.items() if v})


async def verify_code(auth: AuthContext, data: EmailCodeVerify) -> VerificationRead:
    """Codes are six digits, so guesses are counted per address, whoever asks and whatever code
    is current: a fresh code (a new e-mail change, a re-send) does not reset the count. Every
    try counts before it runs, so parallel guesses cannot overrun it. The link is not counted."""
    settings = auth.settings
    await auth.throttle.check("verify-code", data.email, limit=settings.verification_attempts,
                              window=settings.verification_guess_window, slug="too-many-codes",
                              detail="Too many wrong codes for this address; use the link in the e-mail or try later.")

    async def attempt() -> VerificationRead:
        for user in await auth.users.claimants(data.email):
            pending = _pending(user, data.email)
            expected = auth.secret.code_hash("verify-email", user["_id"], data.code)
            if pending is not None and auth.secret.same(expected, str(pending.get("code_hash", ""))):
                return await _mark_verified(auth, user, data.email)
        raise BadRequest(INVALID_CODE, slug="invalid-code")

    return await retry_stale(attempt)


async def verify_token(auth: AuthContext, token: str) -> VerificationRead:
    async def attempt() -> VerificationRead:
        user = await auth.users.by_token("verification", token_hash(token))
        verification = (user.get("verification") if user is not None else None) or {}
        address = str(verification.get("email", ""))
        if user is None or _pending(user, address) is None:
            raise BadRequest("The link is invalid, used or expired; ask for a new one.", slug="invalid-token")
        return await _mark_verified(auth, user, address)

    return await retry_stale(attempt)


async def resend(auth: AuthContext, email: str) -> None:
    """Always answers the same way (no enumeration); sends a new code to every account waiting
    to verify this address (signed up with it unverified, or asked to move to it)."""
    settings = auth.settings
    if await auth.throttle.retry_after("resend", email, limit=settings.resend_rate_limit,
                                       window=settings.resend_rate_window):
        return  # over the limit: nothing is sent, and the answer does not say so

    for claimant in await auth.users.claimants(email):
        await retry_stale(functools.partial(_resend_to, auth, claimant["_id"], email))


async def _resend_to(auth: AuthContext, user_id: str, email: str) -> None:
    user = await auth.users.get(user_id)
    if user is None or user.get("blocked") or email not in _claimed(user):
        return
    fields, event = start_verification(auth, user, email)
    await auth.users.update(user, {**fields, "updated_at": utc_now()}, [event])


def _claimed(user: Document) -> set[str]:
    """Addresses the account may still verify: its own while unverified, and the one it asked for."""
    claimed = {str(user["pending_email"])} if user.get("pending_email") else set()
    if not user.get("email_verified") and user.get("email"):
        claimed.add(str(user["email"]))
    return claimed


def _pending(user: Document | None, address: str) -> dict[str, Any] | None:
    """The live verification of ``address``, if the account still claims that address."""
    if user is None or address not in _claimed(user):
        return None
    pending = user.get("verification")
    if not isinstance(pending, dict) or pending.get("email") != address:
        return None
    expires_at = stored_datetime(pending.get("expires_at"))
    if expires_at is None or expires_at <= utc_now():
        return None
    return pending


async def _mark_verified(auth: AuthContext, user: Whole, address: str) -> VerificationRead:
    """The account now owns ``address`` (a pending change takes effect here, and only here,
    announced by user.updated); every other claim to it is dropped."""
    at = utc_now()
    changes = {"email": address, "verified_email": address, "email_verified": True, "email_verified_at": at,
               "updated_at": at}
    after = {**user, **changes}
    announced = [auth.runtime.event(events.email_verified(after))]
    if address != user.get("email"):
        announced.insert(0, auth.runtime.event(events.updated(after)))
    changed = await auth.users.update(user, changes, announced, unset=["verification", "pending_email"])
    await drop_other_claims(auth, address, owner_id=user["_id"])
    await auth.sessions.sync_claims(user["_id"], email_verified=True)
    return VerificationRead(email=changed["email"], email_verified=True)


async def drop_other_claims(auth: AuthContext, address: str, *, owner_id: str) -> None:
    """Once ``address`` is verified, no one else claims it: an account that asked to move to it
    forgets that request; an account that signed up with it and never verified it is deleted
    (it could do nothing that needs a verified address, so nothing of value is lost)."""
    for _ in range(MAX_CLAIM_ROUNDS):  # claimants are read a page at a time
        others = [c for c in await auth.users.claimants(address) if c["_id"] != owner_id]
        if not others:
            return
        for claimant in others:
            if claimant.get("email") == address and not claimant.get("email_verified"):
                await delete_account(auth, claimant["_id"], reason="address-claimed")
            else:
                await retry_stale(functools.partial(_forget_pending, auth, claimant["_id"], address))


async def _forget_pending(auth: AuthContext, user_id: str, address: str) -> None:
    user = await auth.users.get(user_id)
    if user is None or user.get("pending_email") != address:
        return
    await auth.users.update(user, {"updated_at": utc_now()}, unset=["pending_email", "verification"])


async def delete_account(auth: AuthContext, user_id: str, *, reason: str) -> None:
    """Soft delete: e-mail, phone and IIN are freed at once, sessions end, and the document goes
    after user.deleted is published."""

    async def attempt() -> None:
        current = await auth.users.get(user_id)
        if current is None:
            return
        at = utc_now()
        await auth.users.soft_delete(
            current, [auth.runtime.event(events.deleted(user_id, at=at))], {"updated_at": at}, at=at,
            unset=["email", "verified_email", "pending_email", "phone", "iin", "password_hash", "verification",
                   "reset", "full_name", "search_name"],
        )

    await retry_stale(attempt)
    await auth.sessions.revoke_for_user(user_id, reason=reason, now=utc_now())
