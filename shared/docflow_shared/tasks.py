"""Stopping background work within a time limit, whatever is down (docs/architecture.md,
"Shutdown")."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from typing import Any

logger = logging.getLogger(__name__)


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]], timeout: float) -> None:
    """Cancel ``tasks`` and wait up to ``timeout`` seconds for them to end.

    A cancellation can be lost (a library call that catches it while cleaning up, or a timeout
    racing it), so a task still running is cancelled again every quarter second. What has not
    ended by then is logged and left behind.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pending = {task for task in tasks if not task.done()}
    while pending and (left := deadline - loop.time()) > 0:
        for task in pending:
            task.cancel()
        done, pending = await asyncio.wait(pending, timeout=min(0.25, left))
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                logger.debug("%s ended with %r while stopping", task.get_name(), task.exception())
    if pending:
        logger.warning("still running after %.1fs of stopping: %s", timeout,
                       ", ".join(sorted(task.get_name() for task in pending)))


async def within(seconds: float, work: Awaitable[object], what: str) -> None:
    """Await ``work`` for at most ``seconds``; on timeout cancel it and go on. A failure is logged."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        logger.warning("%s did not finish within %.1fs; going on without it", what, seconds)
        await cancel_and_wait([task], 0.25)
        return
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.warning("%s failed while stopping: %r", what, error)
