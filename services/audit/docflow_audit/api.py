"""Every router of the audit service, mounted at its public path."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_audit.trail.router import router as trail_router
from docflow_shared.web import api_routers


def routers() -> list[APIRouter]:
    return api_routers(
        ("/documents", trail_router, "audit"),
    )
