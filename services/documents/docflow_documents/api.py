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
from docflow_shared.web import api_routers


def routers() -> list[APIRouter]:
    return api_routers(
        ("/documents", documents, "documents"),
        ("/documents", versions, "versions"),
        ("/documents", files, "files"),
        ("/documents", sharing, "sharing"),
        ("/documents", comments, "comments"),
        ("/inbox", inbox, "inbox"),
        ("/contacts", contacts, "contacts"),
        ("/external", outsiders, "outside participants"),
    )
