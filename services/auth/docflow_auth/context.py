"""What the auth service builds at start and every request uses (one object, typed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from docflow_auth.accounts.repository import UsersRepository
from docflow_auth.keys.keyring import KeyRing
from docflow_auth.security.passwords import PasswordHashing
from docflow_auth.security.secrets import ServerSecret
from docflow_auth.sessions.repository import SessionsRepository
from docflow_auth.settings import AuthSettings
from docflow_auth.throttle.service import Throttle
from docflow_shared.runtime import ServiceRuntime


@dataclass
class AuthContext:
    settings: AuthSettings
    runtime: ServiceRuntime
    users: UsersRepository
    sessions: SessionsRepository
    throttle: Throttle
    passwords: PasswordHashing
    secret: ServerSecret
    keyring: KeyRing


async def get_auth(request: Request) -> AuthContext:
    return request.app.state.auth  # type: ignore[no-any-return]


Auth = Annotated[AuthContext, Depends(get_auth)]
