"""The auth service app: ``uvicorn --factory docflow_auth.app:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docflow_auth import api
from docflow_auth.context import OUTBOX_COLLECTIONS, build_context
from docflow_auth.settings import AuthSettings
from docflow_shared.ids import id_pattern
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.web import app_settings, create_service_app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: AuthSettings = app.state.settings
    runtime = ServiceRuntime(settings, outbox_collections=OUTBOX_COLLECTIONS)
    ctx = build_context(settings, runtime)
    await ctx.passwords.prepare()
    async with runtime.serving(app, ctx):
        yield


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = app_settings(AuthSettings, settings)
    return create_service_app(title="DocFlow auth", lifespan=lifespan, routers=api.build_routers(),
                              id_patterns={"user_id": id_pattern("u"), "session_id": id_pattern("s")},
                              settings=settings)
