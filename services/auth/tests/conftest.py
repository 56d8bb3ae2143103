"""Auth tests run against a real auth process (embedded MongoDB-wire server, local RabbitMQ).

``base_url`` is auth alone, started for these tests (every route keeps its path under /api/v1);
``DOCFLOW_TESTS_VIA=gateway`` sends the same requests through the gateway of the session
``stack`` (every service running), as a client would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from auth_testkit import AuthApi

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.plugin import tests_via


@pytest.fixture(scope="session")
def auth_stack(platform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = Path(tmp_path_factory.mktemp("auth-logs"))
    stack = Stack(env=dict(platform_env), ports={"auth": free_port()}, only=("auth",), log_dir=logs).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def base_url(request: pytest.FixtureRequest) -> str:
    """Auth itself; the gateway of the session ``stack`` with DOCFLOW_TESTS_VIA=gateway."""
    if tests_via() == "gateway":
        return str(request.getfixturevalue("gateway_url"))
    stack: Stack = request.getfixturevalue("auth_stack")
    return stack.url("auth")


@pytest_asyncio.fixture(loop_scope="session")
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def api(http: httpx.AsyncClient, events: EventTap) -> AuthApi:
    return AuthApi(http, events)
