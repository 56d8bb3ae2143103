"""Auth tests run against a real auth process (embedded MongoDB-wire server, local RabbitMQ).

``base_url`` is auth alone, started for these tests (every route keeps its path under /api/v1);
``DOCFLOW_TESTS_VIA=gateway`` sends the same requests through the gateway of the session
``stack`` (every service running), as a client would.

The auth started here has a database and a broker namespace of its own (``auth_env``): on the
session stack's, its relay would publish part of that stack's events as another broker user,
and the stack's consumers would drop them.
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
from docflow_dev.testing.plugin import event_sealer, own_database_and_namespace, tests_via


@pytest.fixture(scope="session")
def auth_env(platform_env: dict[str, str]) -> dict[str, str]:
    """The environment of the auth these tests talk to (and of its CLI): the session stack's
    through the gateway, otherwise a database and namespace of its own beside the same data dir."""
    if tests_via() == "gateway":
        return platform_env
    return own_database_and_namespace(platform_env, "auth")


@pytest.fixture(scope="session")
def auth_stack(auth_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = Path(tmp_path_factory.mktemp("auth-logs"))
    stack = Stack(env=dict(auth_env), ports={"auth": free_port()}, only=("auth",), log_dir=logs).start()
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
async def events(amqp_url: str, auth_env: dict[str, str]) -> AsyncIterator[EventTap]:
    """What the auth under test publishes, on its namespace."""
    async with EventTap(amqp_url, auth_env["BROKER_NAMESPACE"], sealer=event_sealer(auth_env)) as tap:
        yield tap


@pytest_asyncio.fixture(loop_scope="session")
async def api(http: httpx.AsyncClient, events: EventTap) -> AuthApi:
    return AuthApi(http, events)
