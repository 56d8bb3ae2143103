"""The auth service app: ``uvicorn --factory docflow_auth.app:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docflow_auth.accounts.repository import UsersRepository
from docflow_auth.api import build_routers
from docflow_auth.context import AuthContext
from docflow_auth.keys.keyring import KeyRing
from docflow_auth.keys.local_jwks import KeyRingJWKS
from docflow_auth.security.passwords import PasswordHashing
from docflow_auth.security.secrets import ServerSecret
from docflow_auth.sessions.repository import SessionsRepository
from docflow_auth.settings import AuthSettings
from docflow_auth.throttle.repository import RateLimitRepository
from docflow_auth.throttle.service import Throttle
from docflow_shared.logging import configure_logging
from docflow_shared.mongo import ensure_indexes_forever
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.web import create_service_app

OUTBOX_COLLECTIONS = ("users",)


def password_hashing(settings: AuthSettings) -> PasswordHashing:
    return PasswordHashing(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib,
                           parallelism=settings.argon2_parallelism, threads=settings.password_threads)


def build_context(settings: AuthSettings, runtime: ServiceRuntime) -> AuthContext:
    keyring = KeyRing(env_pems=settings.signing_keys, keys_dir=settings.keys_dir,
                      access_ttl=settings.access_token_ttl)
    runtime.verifier.jwks = KeyRingJWKS(keyring)
    return AuthContext(
        settings=settings, runtime=runtime,
        users=UsersRepository(runtime.db["users"], runtime.outbox),
        sessions=SessionsRepository(runtime.db["sessions"]),
        throttle=Throttle(RateLimitRepository(runtime.db["rate_limits"])),
        passwords=password_hashing(settings),
        secret=ServerSecret.load(settings.secret_key, settings.keys_dir),
        keyring=keyring,
    )


async def create_indexes(auth: AuthContext) -> None:
    await auth.users.ensure_indexes()
    await auth.sessions.ensure_indexes()
    await auth.throttle.repository.ensure_indexes()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = AuthSettings()
    configure_logging("auth", settings.log_level, as_json=settings.log_json)
    runtime = ServiceRuntime(settings, outbox_collections=OUTBOX_COLLECTIONS)
    auth = build_context(settings, runtime)
    await auth.passwords.prepare()
    runtime.add_task(await ensure_indexes_forever(lambda: create_indexes(auth)))
    app.state.runtime = runtime
    app.state.auth = auth
    await runtime.start()
    try:
        yield
    finally:
        await runtime.stop()


def create_app() -> FastAPI:
    return create_service_app(title="DocFlow auth", lifespan=lifespan, routers=build_routers())
