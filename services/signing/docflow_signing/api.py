"""Every router of the signing service, mounted at its public path under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_signing.certificates.router import router as certificates_router
from docflow_signing.requests.router import assigned_router
from docflow_signing.requests.router import documents_router as request_documents_router
from docflow_signing.signatures.router import documents_router as signature_documents_router
from docflow_signing.signatures.router import verify_router

API_PREFIX = "/api/v1"

# Path prefixes the gateway forwards to signing (the documents service owns the rest of /documents).
GATEWAY_ROUTES = (
    "/api/v1/certificates",
    "/api/v1/signatures",
    "/api/v1/signature-requests",
    "/api/v1/documents/{document_id}/files/{file_id}/signatures",
    "/api/v1/documents/{document_id}/signatures",
    "/api/v1/documents/{document_id}/signature-requests",
)


def routers() -> list[APIRouter]:
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(certificates_router, prefix="/certificates", tags=["certificates"])
    api.include_router(signature_documents_router, prefix="/documents", tags=["signatures"])
    api.include_router(verify_router, prefix="/signatures", tags=["signatures"])
    api.include_router(request_documents_router, prefix="/documents", tags=["signature requests"])
    api.include_router(assigned_router, prefix="/signature-requests", tags=["signature requests"])
    return [api]
