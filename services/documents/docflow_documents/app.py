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
from docflow_documents.memory import keep_large_buffers_out_of_the_heap
from docflow_documents.settings import DocumentsSettings
from docflow_documents.sharing import handlers as sharing_handlers
from docflow_documents.users import handlers as user_handlers
from docflow_shared.logging import configure_logging
from docflow_shared.mongo import ensure_indexes_forever
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.web import create_service_app


def create_app(settings: DocumentsSettings | None = None) -> FastAPI:
    settings = settings or DocumentsSettings()
    configure_logging(settings.service_name, settings.log_level, as_json=settings.log_json)
    keep_large_buffers_out_of_the_heap()
    keyring = KeyRing.from_settings(settings.master_keys, settings.master_key_id, settings.data_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime(settings, outbox_collections=OUTBOX_COLLECTIONS)
        ctx = DocumentsContext(runtime, settings, keyring)
        app.state.runtime = runtime
        app.state.documents = ctx
        runtime.add_task(await ensure_indexes_forever(ctx.create_indexes))
        for module in (user_handlers, document_handlers, file_handlers, sharing_handlers):
            for event_type, handler in module.subscriptions(ctx).items():
                runtime.subscribe(event_type, handler)
        await runtime.start()
        # each idle upload is taken by one guarded delete: safe in every replica
        runtime.every(settings.upload_sweep_seconds, ctx.files.sweep_idle_uploads, name="upload-sweeper")
        try:
            yield
        finally:
            await runtime.stop()

    return create_service_app(title="DocFlow documents", lifespan=lifespan, routers=api.routers())
