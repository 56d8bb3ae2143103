"""Every router of the audit service, mounted at its public path."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_audit.trail.router import router as trail_router

PREFIX = "/api/v1"


def routers() -> list[APIRouter]:
    api = APIRouter(prefix=PREFIX)
    api.include_router(trail_router, prefix="/documents", tags=["audit"])
    return [api]
