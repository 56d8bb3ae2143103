"""The deny-list each replica keeps: what each revocation event refuses, and what it spares."""

from __future__ import annotations

from datetime import UTC, datetime

from docflow_shared.events import new_event
from docflow_shared.events.catalogue import SessionRevoked, UserPasswordChanged, UserRoleChanged
from docflow_shared.revocations import RevocationList


class TestRevocationList:
    async def test_session_revoked_refuses_only_that_session(self) -> None:
        denied = RevocationList()
        at = datetime.now(UTC)
        await denied.apply(new_event(SessionRevoked(session_id="s1", user_id="u1", revoked_at=at), producer="auth"))
        assert denied.refuses(user_id="u1", session_id="s1", issued_at=at.timestamp() + 60, role="user")
        assert not denied.refuses(user_id="u1", session_id="s2", issued_at=at.timestamp() - 60, role="user")

    async def test_password_change_spares_the_kept_session_and_later_tokens(self) -> None:
        denied = RevocationList()
        at = datetime.now(UTC)
        await denied.apply(new_event(UserPasswordChanged(user_id="u1", email="a@x.kz", full_name="A", changed_at=at,
                                                         kept_session_id="keep"), producer="auth"))
        before = at.timestamp() - 5
        assert denied.refuses(user_id="u1", session_id="other", issued_at=before, role="user")
        assert not denied.refuses(user_id="u1", session_id="keep", issued_at=before, role="user")
        assert not denied.refuses(user_id="u1", session_id="other", issued_at=at.timestamp() + 2, role="user")
        assert not denied.refuses(user_id="u2", session_id="x", issued_at=before, role="user")

    async def test_role_change_refuses_tokens_with_the_old_role_only(self) -> None:
        denied = RevocationList()
        event = new_event(UserRoleChanged(user_id="u1", role="user", previous_role="admin"), producer="auth")
        await denied.apply(event)
        issued = event.occurred_at.timestamp() - 1
        assert denied.refuses(user_id="u1", session_id="s", issued_at=issued, role="admin")
        assert not denied.refuses(user_id="u1", session_id="s", issued_at=issued, role="user")

    async def test_entries_expire_after_the_token_lifetime(self) -> None:
        denied = RevocationList(ttl=0)
        await denied.apply(new_event(SessionRevoked(session_id="s1", user_id="u1", revoked_at=datetime.now(UTC)),
                                     producer="auth"))
        assert not denied.refuses(user_id="u1", session_id="s1", issued_at=0, role="user")
