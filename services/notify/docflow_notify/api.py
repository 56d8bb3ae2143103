"""Every router of the notify service, mounted at its public path."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_notify.streams.router import router as streams_router
from docflow_notify.webhooks.router import router as webhooks_router

PREFIX = "/api/v1"


def routers() -> list[APIRouter]:
    api = APIRouter(prefix=PREFIX)
    api.include_router(streams_router, prefix="/events", tags=["events"])
    api.include_router(webhooks_router, prefix="/webhooks", tags=["webhooks"])
    return [api]
