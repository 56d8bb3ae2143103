"""The documents service: ``create_app()`` and the lifespan that builds its clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docflow_documents import api
from docflow_documents.context import OUTBOX_COLLECTIONS, DocumentsContext
from docflow_documents.documents import handlers as document_handlers
from docflow_documents.files import handlers as file_handlers
from docflow_documents.files.crypto import KeyRing
from docflow_documents.ids import PATH_IDS
from docflow_documents.memory import keep_large_buffers_out_of_the_heap
from docflow_documents.outsiders import handlers as outsider_handlers
from docflow_documents.settings import DocumentsSettings
from docflow_documents.sharing import handlers as sharing_handlers
from docflow_documents.users import handlers as user_handlers
from docflow_shared.openapi import USER_ID_PATTERN
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.web import app_settings, create_service_app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: DocumentsSettings = app.state.settings
    runtime = ServiceRuntime(settings, outbox_collections=OUTBOX_COLLECTIONS)
    # a missing or malformed master key stops the service at startup, before it serves
    keyring = KeyRing.from_settings(settings.master_keys, settings.master_key_id, settings.data_dir)
    ctx = DocumentsContext(runtime, settings, keyring)
    handlers = (user_handlers, document_handlers, file_handlers, sharing_handlers, outsider_handlers)
    async with runtime.serving(app, ctx, *(module.subscriptions(ctx) for module in handlers)):
        # each idle upload is taken by one guarded delete: safe in every replica
        runtime.every(settings.upload_sweep_seconds, ctx.files.sweep_idle_uploads, name="upload-sweeper")
        yield


def create_app(settings: DocumentsSettings | None = None) -> FastAPI:
    settings = app_settings(DocumentsSettings, settings)
    keep_large_buffers_out_of_the_heap()
    return create_service_app(title="DocFlow documents", lifespan=lifespan, routers=api.routers(),
                              id_patterns={**PATH_IDS, "recipient_id": USER_ID_PATTERN},
                              settings=settings, body_caps=[
                                  # the file plus its multipart framing, counted while it streams
                                  ("POST", r"^/api/v1/documents/[^/]+/files$", settings.max_upload_bytes + 64 * 1024),
                              ])
