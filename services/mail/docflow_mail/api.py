"""Every router of the mail service, mounted at its public path."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_mail.deliveries.router import router as deliveries_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(deliveries_router, prefix="/admin/mail/deliveries", tags=["mail admin"])
