"""Every router of the routes service, mounted at its public path under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_routes.deputies.router import router as deputies_router
from docflow_routes.external.router import router as external_router
from docflow_routes.requests.router import assigned_router
from docflow_routes.requests.router import documents_router as request_documents_router

API_PREFIX = "/api/v1"


def routers() -> list[APIRouter]:
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(request_documents_router, prefix="/documents", tags=["signature requests"])
    api.include_router(assigned_router, prefix="/signature-requests", tags=["signature requests"])
    api.include_router(deputies_router, prefix="/users", tags=["deputies"])
    api.include_router(external_router, prefix="/external", tags=["outside participants"])
    return [api]
