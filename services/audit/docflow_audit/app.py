"""The audit service: consumes the events that are actions on documents, keeps each document's
hash-chained trail, and serves it to the document's owner and participants."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docflow_audit import api
from docflow_audit.context import OUTBOX_COLLECTIONS, AuditContext
from docflow_audit.ids import PATH_IDS
from docflow_audit.settings import AuditSettings
from docflow_audit.trail import handlers as trail_handlers
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.web import app_settings, create_service_app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: AuditSettings = app.state.settings
    runtime = ServiceRuntime(settings, outbox_collections=OUTBOX_COLLECTIONS)
    ctx = AuditContext(runtime, settings)
    async with runtime.serving(app, ctx, trail_handlers.subscriptions(ctx)):
        yield


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    settings = app_settings(AuditSettings, settings)
    return create_service_app(title="DocFlow audit", lifespan=lifespan, routers=api.routers(),
                              id_patterns=PATH_IDS, settings=settings)
