"""The auth service's composition root: what it builds at start and every request uses."""

from __future__ import annotations

from dataclasses import dataclass

from docflow_auth.accounts.repository import UsersRepository
from docflow_auth.keys.keyring import KeyRing
from docflow_auth.keys.local_jwks import KeyRingJWKS
from docflow_auth.security.passwords import PasswordHashing
from docflow_auth.security.secrets import ServerSecret
from docflow_auth.sessions.repository import SessionsRepository
from docflow_auth.settings import AuthSettings
from docflow_auth.throttle.repository import RateLimitRepository
from docflow_auth.throttle.service import Throttle
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.sealed import SecretSealer

OUTBOX_COLLECTIONS = ("users", "sessions")


@dataclass
class AuthContext:
    """Settings, runtime, repositories and services of the auth service, built once per process."""

    settings: AuthSettings
    runtime: ServiceRuntime
    users: UsersRepository
    sessions: SessionsRepository
    throttle: Throttle
    passwords: PasswordHashing
    secret: ServerSecret
    keyring: KeyRing
    sealer: SecretSealer  # seals codes and tokens in events for the mail service

    async def create_indexes(self) -> None:
        await self.users.ensure_indexes()
        await self.sessions.ensure_indexes()
        await self.throttle.repository.ensure_indexes()


def password_hashing(settings: AuthSettings) -> PasswordHashing:
    """The one argon2 configuration, shared by the service and ``docflow-auth create-admin``."""
    return PasswordHashing(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib,
                           parallelism=settings.argon2_parallelism, threads=settings.password_threads)


def build_context(settings: AuthSettings, runtime: ServiceRuntime) -> AuthContext:
    keyring = KeyRing(env_pems=settings.signing_keys, keys_dir=settings.keys_dir,
                      access_ttl=settings.access_token_ttl)
    # auth verifies its own access tokens against its key ring, not over HTTP
    runtime.verifier.jwks = KeyRingJWKS(keyring)
    return AuthContext(
        settings=settings, runtime=runtime,
        users=UsersRepository(runtime.db["users"], runtime.outbox),
        sessions=SessionsRepository(runtime.db["sessions"], runtime.outbox),
        throttle=Throttle(RateLimitRepository(runtime.db["rate_limits"])),
        passwords=password_hashing(settings),
        secret=ServerSecret.load(settings.secret_key, settings.keys_dir),
        keyring=keyring,
        sealer=SecretSealer.configured(settings.event_secret_keys, settings.event_secret_key_id,
                                       data_dir=settings.data_dir),
    )
