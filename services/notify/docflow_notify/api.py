"""Every router of the notify service, mounted at its public path."""

from __future__ import annotations

from fastapi import APIRouter

from docflow_notify.deliveries.router import router as deliveries_router
from docflow_notify.streams.router import router as streams_router
from docflow_notify.webhooks.router import router as webhooks_router
from docflow_shared.web import api_routers


def routers() -> list[APIRouter]:
    return api_routers(
        ("/events", streams_router, "events"),
        ("/webhooks", webhooks_router, "webhooks"),
        ("/webhooks", deliveries_router, "webhooks"),
    )
