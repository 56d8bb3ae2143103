"""Auth tests run against a real auth process (embedded MongoDB-wire server, local RabbitMQ).

``base_url`` is the gateway of the session ``stack`` (every service running), so these are
end-to-end tests a client would recognise; ``DOCFLOW_AUTH_TESTS_DIRECT=1`` runs the same tests
against auth alone (every route keeps its path under /api/v1).
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from docflow_shared.devstack import Stack, free_port
from docflow_shared.testing.events import EventTap

sys.path.insert(0, str(Path(__file__).parent))

from auth_testkit import AuthApi


@pytest.fixture(scope="session")
def auth_stack(platform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = Path(tmp_path_factory.mktemp("auth-logs"))
    stack = Stack(env=dict(platform_env), ports={"auth": free_port()}, only=("auth",), log_dir=logs).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def base_url(request: pytest.FixtureRequest) -> str:
    """The gateway of the session ``stack``; auth itself with DOCFLOW_AUTH_TESTS_DIRECT=1."""
    if os.environ.get("DOCFLOW_AUTH_TESTS_DIRECT") == "1":
        stack: Stack = request.getfixturevalue("auth_stack")
        return stack.url("auth")
    return str(request.getfixturevalue("gateway_url"))


@pytest_asyncio.fixture(loop_scope="session")
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def api(http: httpx.AsyncClient, events: EventTap) -> AuthApi:
    return AuthApi(http, events)
