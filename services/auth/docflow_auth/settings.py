"""Settings of the auth service (prefix ``AUTH_``; ``DATA_DIR`` is platform-wide)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from docflow_shared.settings import DataDirSettings


class AuthSettings(DataDirSettings):
    """Token lifetimes, password hashing, lockout and throttling of the auth service."""

    model_config = SettingsConfigDict(env_prefix="AUTH_")

    service_name: ClassVar[str] = "auth"
    required_secrets: ClassVar[tuple[str, ...]] = ("secret_key", "event_secret_keys")

    signing_keys: str = ""
    secret_key: str = ""

    access_token_ttl: int = 900
    refresh_token_ttl: int = 7 * 24 * 3600
    refresh_absolute_ttl: int = 30 * 24 * 3600
    # Seconds in which the refresh token just rotated away still answers its successor (two
    # tabs refreshing at once); later it counts as reuse and ends the session.
    refresh_grace_seconds: float = 10.0

    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    argon2_parallelism: int = 1
    hash_concurrency: int = 0

    lockout_threshold: int = 5
    lockout_minutes: int = 15

    verification_ttl: int = 600
    # wrong codes per address (not per code: a new code does not reset it) in each guess window
    verification_attempts: int = 5
    verification_guess_window: int = 3600
    reset_ttl: int = 1800

    login_rate_limit: int = 20
    login_rate_window: int = 300
    forgot_rate_limit: int = 5
    forgot_rate_window: int = 3600
    resend_rate_limit: int = 5
    resend_rate_window: int = 3600
    # e-mail changes per account: each one sends a fresh code to the address asked for
    email_change_rate_limit: int = 5
    email_change_rate_window: int = 3600

    cookie_secure: bool | None = None
    cookie_domain: str | None = None

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "auth-keys"

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_base_url.startswith("https://")

    @property
    def password_threads(self) -> int:
        return self.hash_concurrency or max(1, os.cpu_count() or 1)
