"""Every router of the documents service, mounted at its public path (the gateway forwards as is)."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_documents.comments.router import router as comments
from docflow_documents.contacts.router import router as contacts
from docflow_documents.documents.router import router as documents
from docflow_documents.files.router import router as files
from docflow_documents.outsiders.router import router as outsiders
from docflow_documents.sharing.router import inbox_router as inbox
from docflow_documents.sharing.router import router as sharing
from docflow_documents.versions.router import router as versions

PREFIX = "/api/v1"


def routers() -> list[APIRouter]:
    api = APIRouter(prefix=PREFIX)
    api.include_router(documents, prefix="/documents", tags=["documents"])
    api.include_router(versions, prefix="/documents", tags=["versions"])
    api.include_router(files, prefix="/documents", tags=["files"])
    api.include_router(sharing, prefix="/documents", tags=["sharing"])
    api.include_router(comments, prefix="/documents", tags=["comments"])
    api.include_router(inbox, prefix="/inbox", tags=["inbox"])
    api.include_router(contacts, prefix="/contacts", tags=["contacts"])
    api.include_router(outsiders, prefix="/external", tags=["outside participants"])
    return [api]
