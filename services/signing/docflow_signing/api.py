"""Every router of the signing service, mounted at its public path under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_shared.web import api_routers
from docflow_signing.certificates.router import router as certificates_router
from docflow_signing.evidence.router import router as evidence_router
from docflow_signing.pdf_signatures.router import router as pdf_signatures_router
from docflow_signing.routes.router import router as outsiders_router
from docflow_signing.signatures.router import documents_router as signature_documents_router
from docflow_signing.signatures.router import verify_router


def routers() -> list[APIRouter]:
    return api_routers(
        ("/certificates", certificates_router, "certificates"),
        ("/documents", signature_documents_router, "signatures"),
        ("/signatures", verify_router, "signatures"),
        ("/external/session", outsiders_router, "outside participants"),
        ("/signatures", pdf_signatures_router, "signatures"),
        ("/documents", evidence_router, "evidence"),
    )
