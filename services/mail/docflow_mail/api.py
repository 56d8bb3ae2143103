"""Every router of the mail service, mounted at its public path."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_mail.deliveries.router import router as deliveries_router

PREFIX = "/api/v1"


def routers() -> list[APIRouter]:
    api = APIRouter(prefix=PREFIX)
    api.include_router(deliveries_router, prefix="/admin/mail/deliveries", tags=["mail admin"])
    return [api]
