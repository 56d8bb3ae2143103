"""Fault hooks for crash tests: a named point where a test can make the process die at once.

Inert unless ``DOCFLOW_TESTING=1``; only then is ``DOCFLOW_CRASH_AT`` read. A process whose
``DOCFLOW_CRASH_AT`` names the point it reaches exits immediately (``os._exit``: no cleanup, no
flush), as a power cut or an OOM kill would stop it.
"""

from __future__ import annotations

import os

CRASH_EXIT_STATUS = 70


def crash_point(name: str) -> None:
    if os.environ.get("DOCFLOW_TESTING") != "1":
        return
    if os.environ.get("DOCFLOW_CRASH_AT") == name:
        os._exit(CRASH_EXIT_STATUS)
