"""The routes service application: ``create_app()`` and its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docflow_routes import api
from docflow_routes.context import OUTBOX_COLLECTIONS, RoutesContext
from docflow_routes.ids import PATH_IDS
from docflow_routes.projection import handlers as projection_handlers
from docflow_routes.requests import handlers as request_handlers
from docflow_routes.settings import RoutesSettings
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.web import app_settings, create_service_app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: RoutesSettings = app.state.settings
    runtime = ServiceRuntime(settings, outbox_collections=OUTBOX_COLLECTIONS)
    ctx = RoutesContext(runtime, settings)
    handlers = (projection_handlers, request_handlers)
    async with runtime.serving(app, ctx, *(module.subscriptions(ctx) for module in handlers)):
        # expiry, reminders and settling of routes: each transition is an outbox_rev-guarded update,
        # so with several replicas one wins it and the others skip
        runtime.every(settings.scheduler_tick_seconds, ctx.timers.tick, name="routes-scheduler")
        yield


def create_app(settings: RoutesSettings | None = None) -> FastAPI:
    settings = app_settings(RoutesSettings, settings)
    return create_service_app(title="DocFlow routes", lifespan=lifespan, routers=api.routers(),
                              id_patterns=PATH_IDS, settings=settings)
