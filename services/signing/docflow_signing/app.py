"""The signing service application: ``create_app()`` and its lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docflow_shared.logging import configure_logging
from docflow_shared.mongo import ProcessedEvents, ensure_indexes_forever
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.web import create_service_app
from docflow_signing.api import routers
from docflow_signing.certificates.repository import CertificateRepository
from docflow_signing.certificates.service import CertificateService
from docflow_signing.container import SigningServices
from docflow_signing.crypto.trust import TrustStore
from docflow_signing.projection.handlers import ProjectionHandlers
from docflow_signing.projection.repository import ProjectionRepository
from docflow_signing.requests.repository import REQUESTS, SignatureRequestRepository
from docflow_signing.requests.service import SignatureRequestService
from docflow_signing.settings import SigningSettings
from docflow_signing.signatures.repository import SIGNATURES, SignatureRepository
from docflow_signing.signatures.service import SignatureService

QUIET_LOGGERS = ("pyhanko", "pyhanko_certvalidator")


Repository = ProjectionRepository | CertificateRepository | SignatureRepository | SignatureRequestRepository


def build(settings: SigningSettings,
          runtime: ServiceRuntime) -> tuple[SigningServices, ProjectionHandlers, list[Repository]]:
    """Repositories and services over the runtime's database and outbox."""
    projection = ProjectionRepository(runtime.db)
    certificate_repo = CertificateRepository(runtime.db)
    signature_repo = SignatureRepository(runtime.db, runtime.outbox)
    request_repo = SignatureRequestRepository(runtime.db, runtime.outbox)
    trust = TrustStore(settings.trust_path, revocation_check=settings.revocation_check,
                       revocation_mode=settings.revocation_mode)
    certificates = CertificateService(repository=certificate_repo, projection=projection, trust=trust,
                                      allow_untrusted=settings.allow_untrusted)
    requests = SignatureRequestService(repository=request_repo, projection=projection, signatures=signature_repo,
                                       make_event=runtime.event, reminder_seconds=settings.reminder_seconds)
    signatures = SignatureService(
        repository=signature_repo, certificates=certificates, requests=requests, projection=projection,
        trust=trust, make_event=runtime.event, allow_untrusted=settings.allow_untrusted,
        skew_seconds=settings.clock_skew_seconds, max_file_bytes=settings.max_verify_file_bytes,
    )
    handlers = ProjectionHandlers(projection=projection, certificates=certificate_repo, requests=requests,
                                  processed=ProcessedEvents(runtime.db, "signing"))
    services = SigningServices(settings=settings, certificates=certificates, signatures=signatures,
                               requests=requests)
    return services, handlers, [projection, certificate_repo, signature_repo, request_repo]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: SigningSettings = app.state.settings
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    runtime = ServiceRuntime(settings, outbox_collections=[SIGNATURES, REQUESTS])
    services, handlers, repositories = build(settings, runtime)

    async def create_indexes() -> None:
        for repository in repositories:
            await repository.create_indexes()

    runtime.add_task(await ensure_indexes_forever(create_indexes))
    handlers.subscribe(runtime)
    app.state.runtime = runtime
    app.state.services = services
    await runtime.start()
    # expiry, reminders and settling of requests: each transition is an outbox_rev-guarded
    # update, so with several replicas one wins it and the others skip
    runtime.every(settings.scheduler_tick_seconds, services.requests.tick, name="signing-scheduler")
    try:
        yield
    finally:
        await runtime.stop()


def create_app(settings: SigningSettings | None = None) -> FastAPI:
    settings = settings or SigningSettings()
    configure_logging(settings.service_name, settings.log_level, as_json=settings.log_json)
    return create_service_app(title="DocFlow signing", lifespan=lifespan, routers=routers(), settings=settings)
