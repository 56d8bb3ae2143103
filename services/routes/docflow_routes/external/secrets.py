"""Link tokens, codes and session tokens: made random, stored hashed.

Tokens carry 256 random bits, so a plain SHA-256 of one is safe to store (and, for session
tokens, to publish). A 6-digit code has only a million values, so it is stored as an HMAC under
a key the service keeps, bound to its link."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(key: bytes, link_id: str, code: str) -> str:
    return hmac.new(key, f"{link_id}:{code}".encode(), hashlib.sha256).hexdigest()


def load_code_key(configured: str, data_dir: Path) -> bytes:
    """``ROUTES_SECRET_KEY``, else a key generated once into the data dir (development)."""
    if configured:
        return configured.encode()
    path = data_dir / "routes-keys" / "secret.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_bytes().strip()
