"""Every router of the signing service, mounted at its public path under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_signing.certificates.router import router as certificates_router
from docflow_signing.evidence.router import router as evidence_router
from docflow_signing.pdf_signatures.router import router as pdf_signatures_router
from docflow_signing.routes.router import router as outsiders_router
from docflow_signing.signatures.router import documents_router as signature_documents_router
from docflow_signing.signatures.router import verify_router

API_PREFIX = "/api/v1"

def routers() -> list[APIRouter]:
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(certificates_router, prefix="/certificates", tags=["certificates"])
    api.include_router(signature_documents_router, prefix="/documents", tags=["signatures"])
    api.include_router(verify_router, prefix="/signatures", tags=["signatures"])
    api.include_router(outsiders_router, prefix="/external/session", tags=["outside participants"])
    api.include_router(pdf_signatures_router, prefix="/signatures", tags=["signatures"])
    api.include_router(evidence_router, prefix="/documents", tags=["evidence"])
    return [api]
