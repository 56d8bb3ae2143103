"""Every router of the auth service, mounted at its public path."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_auth.accounts.router import router as accounts_router
from docflow_auth.admin.router import router as admin_router
from docflow_auth.keys.router import router as keys_router
from docflow_auth.passwords.router import me_router as password_me_router
from docflow_auth.passwords.router import router as passwords_router
from docflow_auth.profile.router import router as profile_router
from docflow_auth.sessions.router import me_router as sessions_me_router
from docflow_auth.sessions.router import router as sessions_router
from docflow_shared.web import API_PREFIX


def build_routers() -> list[APIRouter]:
    auth = APIRouter(prefix=f"{API_PREFIX}/auth")
    auth.include_router(accounts_router)
    auth.include_router(sessions_router)
    auth.include_router(passwords_router)

    users = APIRouter(prefix=f"{API_PREFIX}/users")
    users.include_router(profile_router)
    users.include_router(sessions_me_router, prefix="/me")
    users.include_router(password_me_router, prefix="/me")

    admin = APIRouter(prefix=f"{API_PREFIX}/admin")
    admin.include_router(admin_router)
    return [auth, users, admin, keys_router]
