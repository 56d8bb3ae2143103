"""Random secrets and how they are stored: sha256 for high-entropy tokens, HMAC for short codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from docflow_auth.security.files import exclusive_lock, write_private


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10 ** digits):0{digits}d}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class ServerSecret:
    """The server's HMAC key: short codes are stored as HMACs, refresh tokens carry a MAC."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the auth secret key must have at least 32 bytes")
        self._key = key

    @classmethod
    def load(cls, configured: str, keys_dir: Path) -> ServerSecret:
        """From ``AUTH_SECRET_KEY``, else from (or generated into) ``<keys_dir>/secret.key``."""
        if configured:
            return cls(configured.encode())
        path = keys_dir / "secret.key"
        keys_dir.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(keys_dir):
            if not path.exists():
                write_private(path, b64url(os.urandom(48)).encode())
            return cls(path.read_bytes().strip())

    def mac(self, *parts: str, size: int = 32) -> str:
        digest = hmac.new(self._key, "\x1f".join(parts).encode(), hashlib.sha256).digest()
        return b64url(digest[:size])

    def code_hash(self, purpose: str, subject: str, code: str) -> str:
        return self.mac(purpose, subject, code)

    @staticmethod
    def same(a: str, b: str) -> bool:
        return hmac.compare_digest(a.encode(), b.encode())
