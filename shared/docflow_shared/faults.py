"""Fault hooks for crash and race tests: named points where a test can make the process die at
once, or hold a request there while something else runs.

Inert unless ``DOCFLOW_TESTING=1``; only then are ``DOCFLOW_CRASH_AT`` and ``DOCFLOW_PAUSE_AT``
read. A process whose ``DOCFLOW_CRASH_AT`` names the point it reaches exits immediately
(``os._exit``: no cleanup, no flush), as a power cut or an OOM kill would stop it. One whose
``DOCFLOW_PAUSE_AT`` names it waits there ``DOCFLOW_PAUSE_SECONDS`` (default 2) without blocking
the event loop, which opens a race window wide enough to hit every time.
"""

from __future__ import annotations

import asyncio
import os

CRASH_EXIT_STATUS = 70


def crash_point(name: str) -> None:
    if os.environ.get("DOCFLOW_TESTING") != "1":
        return
    if os.environ.get("DOCFLOW_CRASH_AT") == name:
        os._exit(CRASH_EXIT_STATUS)


async def pause_point(name: str) -> None:
    if os.environ.get("DOCFLOW_TESTING") != "1":
        return
    if os.environ.get("DOCFLOW_PAUSE_AT") == name:
        await asyncio.sleep(float(os.environ.get("DOCFLOW_PAUSE_SECONDS") or 2))
