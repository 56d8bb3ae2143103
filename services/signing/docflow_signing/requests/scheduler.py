"""The background loop: reminders to pending signers and expiry of requests."""

from __future__ import annotations

import asyncio
import logging

from docflow_signing.requests.service import SignatureRequestService

logger = logging.getLogger(__name__)


async def run_scheduler(service: SignatureRequestService, *, tick_seconds: float) -> None:
    """Every ``tick_seconds``: expire due requests, send due reminders, settle open requests.

    Safe with several replicas: each transition is an ``outbox_rev``-guarded update, so only one
    replica wins it and the others skip.
    """
    while True:
        try:
            await service.tick()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("signature request pass failed; retrying on the next tick")
        await asyncio.sleep(tick_seconds)
