"""The per-replica deny-list of revoked sessions and users, fed by auth's events.

Access tokens live for minutes and are verified without asking auth. So that a logout, a block,
a deletion, a password or role change takes effect within seconds, every replica of the
gateway and of each service keeps a small in-memory list of what was revoked, filled by events
from auth on a queue of its own (``EventBus.subscribe_broadcast``). An entry is dropped once
every token it could refuse has expired (the access-token lifetime).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from docflow_shared.events import Event
from docflow_shared.events.catalogue import (
    SessionRevoked,
    UserBlocked,
    UserDeleted,
    UserPasswordChanged,
    UserRoleChanged,
)

REVOCATION_EVENTS = (SessionRevoked.TYPE, UserBlocked.TYPE, UserDeleted.TYPE, UserPasswordChanged.TYPE,
                     UserRoleChanged.TYPE)


@dataclass(frozen=True, slots=True)
class UserRevocation:
    """Tokens of the user issued at or before ``before`` are refused, except those of
    ``kept_session`` and those already carrying ``role``."""

    before: float
    kept_session: str | None = None
    role: str | None = None


class RevocationList:
    def __init__(self, *, ttl: float = 900.0) -> None:
        self.ttl = ttl
        self._sessions: dict[str, float] = {}
        self._users: dict[str, tuple[UserRevocation, float]] = {}

    def revoke_session(self, session_id: str) -> None:
        self._sessions[session_id] = time.monotonic() + self.ttl

    def revoke_user(self, user_id: str, revocation: UserRevocation) -> None:
        current = self._users.get(user_id)
        if current is None or current[0].before <= revocation.before:
            self._users[user_id] = (revocation, time.monotonic() + self.ttl)
        self._expire()

    def refuses(self, *, user_id: str, session_id: str | None, issued_at: float, role: str) -> bool:
        if not self._sessions and not self._users:
            return False
        now = time.monotonic()
        if session_id is not None and self._sessions.get(session_id, 0) > now:
            return True
        entry = self._users.get(user_id)
        if entry is None or entry[1] <= now:
            return False
        revocation = entry[0]
        if issued_at > revocation.before:
            return False
        if revocation.kept_session is not None and session_id == revocation.kept_session:
            return False
        return not (revocation.role is not None and role == revocation.role)

    def _expire(self) -> None:
        now = time.monotonic()
        if len(self._sessions) + len(self._users) < 1024:
            return
        self._sessions = {k: v for k, v in self._sessions.items() if v > now}
        self._users = {k: v for k, v in self._users.items() if v[1] > now}

    async def apply(self, event: Event) -> None:
        """Handler for the revocation events (idempotent: applying one twice changes nothing)."""
        if event.type == SessionRevoked.TYPE:
            session = event.payload(SessionRevoked)
            self.revoke_session(session.session_id)
            self._expire()
        elif event.type == UserBlocked.TYPE:
            blocked = event.payload(UserBlocked)
            self.revoke_user(blocked.user_id, UserRevocation(before=blocked.blocked_at.timestamp()))
        elif event.type == UserDeleted.TYPE:
            deleted = event.payload(UserDeleted)
            self.revoke_user(deleted.user_id, UserRevocation(before=float("inf")))
        elif event.type == UserPasswordChanged.TYPE:
            changed = event.payload(UserPasswordChanged)
            self.revoke_user(changed.user_id, UserRevocation(before=changed.changed_at.timestamp(),
                                                             kept_session=changed.kept_session_id))
        elif event.type == UserRoleChanged.TYPE:
            role = event.payload(UserRoleChanged)
            at = event.occurred_at.timestamp()
            self.revoke_user(role.user_id, UserRevocation(before=at, role=None if role.blocked else role.role))
