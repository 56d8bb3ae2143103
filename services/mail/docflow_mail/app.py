"""The mail service: consumes events, renders and sends e-mails, keeps the delivery log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docflow_mail.api import api_router
from docflow_mail.deliveries import handlers
from docflow_mail.deliveries.dispatcher import RetryLoop
from docflow_mail.deliveries.repository import COLLECTION, DeliveryRepository
from docflow_mail.deliveries.service import DeliveryService
from docflow_mail.settings import MailSettings
from docflow_mail.smtp.client import SmtpPool
from docflow_mail.templates.renderer import TemplateRenderer
from docflow_shared.logging import configure_logging
from docflow_shared.mongo import ensure_indexes_forever
from docflow_shared.outbox import Outbox
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.web import create_service_app


def build_smtp_pool(settings: MailSettings) -> SmtpPool:
    return SmtpPool(
        host=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_user,
        password=settings.smtp_password, tls=settings.smtp_tls, timeout=settings.smtp_timeout,
        validate_certs=settings.smtp_validate_certs, size=settings.smtp_pool_size,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: MailSettings = app.state.settings
    runtime = ServiceRuntime(settings, outbox_collections=[COLLECTION])
    # mail.sent / mail.failed go out on the relay's next poll (OUTBOX_POLL_SECONDS), in batches,
    # instead of waking the relay for every e-mail: nothing waits for them in real time
    repository = DeliveryRepository(runtime.db, Outbox())
    smtp = build_smtp_pool(settings)
    service = DeliveryService(runtime=runtime, settings=settings, repository=repository,
                              renderer=TemplateRenderer(extra_dir=settings.templates_dir), smtp=smtp)
    retry_loop = RetryLoop(service, poll_seconds=settings.retry_poll_seconds,
                           concurrency=settings.smtp_pool_size * 2)
    service.wake_sender = retry_loop.wake
    runtime.add_task(await ensure_indexes_forever(repository.ensure_indexes))
    handlers.subscribe(runtime, service)
    app.state.runtime = runtime
    app.state.deliveries = service
    await runtime.start()
    runtime.add_task(retry_loop.start())
    try:
        yield
    finally:
        await runtime.stop()
        await smtp.close()


def create_app(settings: MailSettings | None = None) -> FastAPI:
    settings = settings or MailSettings()
    configure_logging(settings.service_name, settings.log_level, as_json=settings.log_json)
    return create_service_app(title="DocFlow mail", lifespan=lifespan, routers=[api_router],
                              settings=settings)
