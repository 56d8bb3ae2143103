"""The signing service application: ``create_app()`` and its lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docflow_shared.bodylimit import BodyCap
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.web import app_settings, create_service_app
from docflow_signing.api import routers
from docflow_signing.context import OUTBOX_COLLECTIONS, SigningContext
from docflow_signing.evidence import handlers as evidence_handlers
from docflow_signing.ids import PATH_IDS
from docflow_signing.projection import handlers as projection_handlers
from docflow_signing.routes import handlers as route_handlers
from docflow_signing.settings import SigningSettings
from docflow_signing.uploads import FORM_OVERHEAD

QUIET_LOGGERS = ("pyhanko", "pyhanko_certvalidator")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: SigningSettings = app.state.settings
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    runtime = ServiceRuntime(settings, outbox_collections=OUTBOX_COLLECTIONS)
    ctx = SigningContext(runtime, settings)
    # the evidence trail records the projection's document.* events before handing them on
    subscriptions = evidence_handlers.subscriptions(ctx, projection_handlers.subscriptions(ctx))
    async with runtime.serving(app, ctx, subscriptions, route_handlers.subscriptions(ctx)):
        yield


def create_app(settings: SigningSettings | None = None) -> FastAPI:
    settings = app_settings(SigningSettings, settings)
    return create_service_app(title="DocFlow signing", lifespan=lifespan, routers=routers(), settings=settings,
                              id_patterns=PATH_IDS,
                              body_caps=body_caps(settings))


def body_caps(settings: SigningSettings) -> list[BodyCap]:
    """Upload routes' caps, counted while the body streams: the blob as base64 in JSON or multipart."""

    def encoded(limit: int) -> int:
        return max(settings.max_body_bytes, limit * 4 // 3 + FORM_OVERHEAD)

    return [
        ("POST", r"^/api/v1/certificates$", encoded(settings.max_certificate_bytes)),
        ("POST", r"^/api/v1/documents/[^/]+/files/[^/]+/signatures$", encoded(settings.max_signature_bytes)),
        ("POST", r"^/api/v1/external/session/certificates$", encoded(settings.max_certificate_bytes)),
        ("POST", r"^/api/v1/external/session/files/[^/]+/signatures$", encoded(settings.max_signature_bytes)),
        ("POST", r"^/api/v1/signatures/verify$",
         settings.max_verify_file_bytes + settings.max_signature_bytes + FORM_OVERHEAD),
        ("POST", r"^/api/v1/signatures/verify-pdf$", encoded(settings.max_verify_file_bytes)),
    ]
