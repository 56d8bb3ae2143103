"""The mail service: consumes events, renders and sends e-mails, keeps the delivery log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docflow_mail import api
from docflow_mail.context import OUTBOX_COLLECTIONS, MailContext
from docflow_mail.deliveries import handlers as delivery_handlers
from docflow_mail.settings import MailSettings
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.tasks import within
from docflow_shared.web import app_settings, create_service_app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: MailSettings = app.state.settings
    runtime = ServiceRuntime(settings, outbox_collections=OUTBOX_COLLECTIONS)
    ctx = MailContext(runtime, settings)
    try:
        async with runtime.serving(app, ctx, delivery_handlers.subscriptions(ctx)):
            runtime.add_task(ctx.retry_loop.start())
            yield
    finally:
        await within(1.0, ctx.smtp.close(), "SMTP connections")


def create_app(settings: MailSettings | None = None) -> FastAPI:
    settings = app_settings(MailSettings, settings)
    return create_service_app(title="DocFlow mail", lifespan=lifespan, routers=api.routers(),
                              settings=settings)
