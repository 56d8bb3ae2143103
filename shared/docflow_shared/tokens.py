"""Access-token verification against auth's JWKS, used by the gateway and by every service."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import aiohttp
from jose import jwt
from jose.exceptions import JOSEError

from docflow_shared.errors import Unauthorized, Unavailable
from docflow_shared.revocations import RevocationList

logger = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = ("ES256",)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as the access token says."""

    user_id: str
    role: str
    email_verified: bool
    token_id: str
    expires_at: int
    session_id: str | None = None
    issued_at: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class JWKSCache:
    """Keys by ``kid``; an unknown ``kid`` triggers a refetch (at most once per ``min_refresh``).
    ``url`` may list several comma-separated addresses (replicas of auth): each is tried in turn."""

    def __init__(self, url: str, *, min_refresh: float = 5.0, max_age: float = 300.0) -> None:
        self.url = url
        self.urls = [u.strip() for u in url.split(",") if u.strip()] or [url]
        self.min_refresh = min_refresh
        self.max_age = max_age
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def set_keys(self, keys: list[dict[str, Any]]) -> None:
        """Install keys directly (auth verifies its own tokens without a round trip)."""
        self._keys = {k["kid"]: k for k in keys if "kid" in k}
        self._fetched_at = time.monotonic()

    async def get(self, kid: str) -> dict[str, Any] | None:
        key = self._keys.get(kid)
        stale = time.monotonic() - self._fetched_at > self.max_age
        if key is not None and not stale:
            return key
        if time.monotonic() - self._fetched_at >= self.min_refresh or not self._keys or stale:
            await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < self.min_refresh and self._keys:
                return
            if self._session is None:
                self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
            failure: Exception | None = None
            for url in self.urls:
                try:
                    async with self._session.get(url) as resp:
                        resp.raise_for_status()
                        body = await resp.json()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    failure = exc
                    continue
                self.set_keys(body.get("keys", []))
                return
            self._fetched_at = time.monotonic()
            if not self._keys:
                raise Unavailable("Token keys are not available right now.") from failure
            logger.warning("JWKS refresh failed, keeping the cached keys: %r", failure)


class AccessTokenVerifier:
    """Checks signature (by ``kid``), ``exp``, ``iss``, ``aud`` and ``type == access``; a token
    lacking ``aud`` or ``iss`` is refused."""

    def __init__(self, jwks: JWKSCache, *, issuer: str, audience: str, cache_size: int = 10000,
                 revocations: RevocationList | None = None) -> None:
        self.jwks = jwks
        self.revocations = revocations
        self.issuer = issuer
        self.audience = audience
        self.cache_size = cache_size
        self._verified: OrderedDict[str, Principal] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        principal = await self._verify(token)
        if self.revocations is not None and self.revocations.refuses(
            user_id=principal.user_id, session_id=principal.session_id, issued_at=principal.issued_at,
            role=principal.role,
        ):
            raise Unauthorized("This session has ended; log in again.", slug="session-revoked")
        return principal

    async def _verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            if cached.expires_at > time.time():
                self._verified.move_to_end(token)
                return cached
            del self._verified[token]
            raise Unauthorized("The access token has expired.", slug="token-expired")
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise Unauthorized("The access token is malformed.", slug="invalid-token") from exc
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise Unauthorized("The token's algorithm is not accepted.", slug="invalid-token")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("The token names no key.", slug="invalid-token")
        key = await self.jwks.get(kid)
        if key is None:
            raise Unauthorized("The token was signed by an unknown key.", slug="invalid-token")
        try:
            claims = jwt.decode(
                token, key, algorithms=list(ALLOWED_ALGORITHMS),
                audience=self.audience, issuer=self.issuer,
                options={"require_exp": True, "require_iat": True, "require_sub": True, "require_jti": True,
                         "require_aud": True, "require_iss": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The access token has expired.", slug="token-expired") from exc
        except JOSEError as exc:
            raise Unauthorized("The access token is not valid.", slug="invalid-token") from exc
        if claims.get("type") != "access":
            raise Unauthorized("This is not an access token.", slug="invalid-token")
        principal = Principal(
            user_id=str(claims["sub"]),
            role=str(claims.get("role", "user")),
            email_verified=bool(claims.get("email_verified", False)),
            token_id=str(claims["jti"]),
            expires_at=int(claims["exp"]),
            session_id=claims.get("sid"),
            issued_at=int(claims["iat"]),
        )
        self._verified[token] = principal
        if len(self._verified) > self.cache_size:
            self._verified.popitem(last=False)
        return principal


def bearer_token(authorization: str | None, cookie_token: str | None = None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    return cookie_token or None
