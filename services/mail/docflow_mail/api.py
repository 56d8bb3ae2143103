"""Every router of the mail service, mounted at its public path."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_mail.deliveries.router import router as deliveries_router
from docflow_shared.web import api_routers


def routers() -> list[APIRouter]:
    return api_routers(
        ("/admin/mail/deliveries", deliveries_router, "mail admin"),
    )
