"""Access JWTs and refresh tokens.

A refresh token is ``<session>.<generation>.<nonce>.<mac>``: opaque to clients, stored only as
its sha256 in the session, and MAC'd with the server secret so that any earlier generation of
a family is recognised as reuse (and revokes that family) without keeping old hashes.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from docflow_auth.context import AuthContext
from docflow_auth.security.secrets import new_token
from docflow_shared.errors import Unauthorized


@dataclass(frozen=True)
class RefreshToken:
    session_id: str
    generation: int
    value: str


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_max_age: int


def access_token(auth: AuthContext, *, user_id: str, role: str, email_verified: bool, session_id: str) -> str:
    settings = auth.settings
    issued = int(time.time())
    claims: dict[str, Any] = {
        "sub": user_id, "role": role, "type": "access", "email_verified": bool(email_verified),
        "sid": session_id, "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex, "iat": issued, "exp": issued + settings.access_token_ttl,
    }
    return auth.keyring.sign(claims)


def new_refresh_token(auth: AuthContext, session_id: str, generation: int) -> RefreshToken:
    return _refresh_token(auth, session_id, generation, new_token(18))


def successor_of(auth: AuthContext, presented: RefreshToken) -> RefreshToken:
    """The token that replaces ``presented``: derived from it with the server secret, so a
    second use of ``presented`` within the grace window is answered with the same successor
    without storing any token in readable form."""
    nonce = auth.secret.mac("refresh-successor", presented.value, size=18)
    return _refresh_token(auth, presented.session_id, presented.generation + 1, nonce)


def _refresh_token(auth: AuthContext, session_id: str, generation: int, nonce: str) -> RefreshToken:
    mac = auth.secret.mac("refresh", session_id, str(generation), nonce, size=24)
    return RefreshToken(session_id, generation, f"{session_id}.{generation}.{nonce}.{mac}")


def parse_refresh_token(auth: AuthContext, value: str) -> RefreshToken:
    """Checks the token's MAC; raises 401 for anything this server did not issue."""
    parts = value.split(".")
    if len(parts) != 4 or not parts[1].isdigit() or len(parts[1]) > 9:
        raise Unauthorized("The refresh token is not valid.", slug="invalid-refresh-token")
    session_id, generation, nonce, mac = parts
    expected = auth.secret.mac("refresh", session_id, generation, nonce, size=24)
    if not auth.secret.same(expected, mac):
        raise Unauthorized("The refresh token is not valid.", slug="invalid-refresh-token")
    return RefreshToken(session_id, int(generation), value)
