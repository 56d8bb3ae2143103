"""Every router of the routes service, mounted at its public path under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_routes.deputies.router import router as deputies_router
from docflow_routes.external.router import router as external_router
from docflow_routes.requests.router import assigned_router
from docflow_routes.requests.router import documents_router as request_documents_router
from docflow_shared.web import api_routers


def routers() -> list[APIRouter]:
    return api_routers(
        ("/documents", request_documents_router, "signature requests"),
        ("/signature-requests", assigned_router, "signature requests"),
        ("/users", deputies_router, "deputies"),
        ("/external", external_router, "outside participants"),
    )
