"""Admin operations on accounts."""

from __future__ import annotations

from typing import Any

from docflow_auth.accounts import events
from docflow_auth.admin.schemas import AdminUserRead, AdminUserUpdate
from docflow_auth.context import AuthContext
from docflow_shared.errors import Conflict, NotFound
from docflow_shared.mongo import utc_now
from docflow_shared.outbox import Whole, retry_stale
from docflow_shared.pagination import OLDEST_FIRST, Page
from docflow_shared.tokens import Principal


async def _get(auth: AuthContext, user_id: str) -> Whole:
    user = await auth.users.get(user_id) if len(user_id) <= 64 else None
    if user is None:
        raise NotFound("No such user.")
    return user


async def list_users(auth: AuthContext, *, q: str | None, limit: int, cursor: str | None) -> Page[AdminUserRead]:
    docs = await auth.users.search(q.strip() if q else None, after=OLDEST_FIRST.after(cursor), limit=limit + 1)
    docs, next_cursor = OLDEST_FIRST.page(docs, limit)
    return Page[AdminUserRead](items=[AdminUserRead.from_doc(d) for d in docs], next_cursor=next_cursor)


async def get_user(auth: AuthContext, user_id: str) -> AdminUserRead:
    return AdminUserRead.from_doc(await _get(auth, user_id))


async def update_user(auth: AuthContext, admin: Principal, user_id: str, data: AdminUserUpdate) -> AdminUserRead:
    sent = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if user_id == admin.user_id and (sent.get("role") == "user" or sent.get("blocked")):
        raise Conflict("Administrators cannot demote or block themselves.", slug="self-demotion")

    async def attempt() -> Whole:
        user = await _get(auth, user_id)
        changes: dict[str, Any] = {k: v for k, v in sent.items() if v != (bool(user.get(k)) if k == "blocked"
                                                                             else user.get(k, "user"))}
        if not changes:
            return user
        changes["updated_at"] = utc_now()
        after = {**user, **changes}
        produced = [auth.runtime.event(events.role_changed(after, previous_role=user.get("role", "user")))]
        if changes.get("blocked"):
            produced.append(auth.runtime.event(events.blocked(after, at=changes["updated_at"])))
        return await auth.users.update(user, changes, produced)

    saved = await retry_stale(attempt)
    if saved.get("blocked"):
        await auth.sessions.revoke_for_user(user_id, reason="blocked", now=utc_now())
    elif "role" in sent:
        await auth.sessions.sync_claims(user_id, role=saved.get("role", "user"))
    return AdminUserRead.from_doc(saved)


async def unlock(auth: AuthContext, user_id: str) -> AdminUserRead:
    async def attempt() -> Whole:
        user = await _get(auth, user_id)
        return await auth.users.update(user, {"failed_logins": 0, "updated_at": utc_now()}, unset=["locked_until"])

    return AdminUserRead.from_doc(await retry_stale(attempt))
