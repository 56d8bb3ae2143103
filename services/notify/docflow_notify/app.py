"""The notify service: a user's events live over WebSocket and SSE, and webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docflow_notify import api
from docflow_notify.context import OUTBOX_COLLECTIONS, NotifyContext
from docflow_notify.deliveries import handlers as delivery_handlers
from docflow_notify.settings import NotifySettings
from docflow_notify.streams import handlers as stream_handlers
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.tasks import within
from docflow_shared.web import app_settings, create_service_app

# how often streams are checked for an expired access token
EXPIRY_CHECK_SECONDS = 1.0


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: NotifySettings = app.state.settings
    runtime = ServiceRuntime(settings, outbox_collections=OUTBOX_COLLECTIONS)
    ctx = NotifyContext(runtime, settings)
    # each replica's own fan-out queue: registered before the runtime starts the broker
    for event_type, handler in stream_handlers.broadcasts(ctx).items():
        runtime.bus.subscribe_broadcast([event_type], handler)
    try:
        async with runtime.serving(app, ctx, delivery_handlers.subscriptions(ctx)):
            runtime.every(EXPIRY_CHECK_SECONDS, ctx.streams.close_expired, name="stream-expiry")
            runtime.add_task(ctx.send_loop.start())
            try:
                yield
            finally:
                ctx.hub.close_all()  # before the runtime stops: open streams end with a close frame
    finally:
        await within(1.0, ctx.http.close(), "webhook HTTP client")


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = app_settings(NotifySettings, settings)
    return create_service_app(title="DocFlow notify", lifespan=lifespan, routers=api.routers(),
                              settings=settings)
