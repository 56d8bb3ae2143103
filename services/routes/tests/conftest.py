"""Fixtures for the routes service on real servers: routes, signing (which makes the signatures
routes wait for) and a gateway in front of both, as processes per test module (fresh databases
and broker namespace); a test PKI generated at test time, and a `world` that publishes the
user.* / document.* events both services build their projections from (``docflow_dev.testing.world``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from docflow_dev.devstack import Stack
from docflow_dev.testing.accounts import sign_up, trust_in_default_dir
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.plugin import event_sealer
from docflow_dev.testing.world import ModuleEnv, Pki, make_pki, module_env, opened, running, tapped
from docflow_dev.testing.world import World as ProjectionWorld
from docflow_shared.bus import EventBus

RoutesEnv = ModuleEnv
SERVICES = ("routes", "signing", "gateway")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory)


@pytest.fixture(scope="module")
def routes_env(platform_env: dict[str, str], local_issuer: LocalIssuer, pki: Pki,
               request: pytest.FixtureRequest) -> RoutesEnv:
    """Environment of this module's processes: own database prefix and broker namespace."""
    return module_env(platform_env, local_issuer, pki, request, service="routes", tag="rte")


@pytest.fixture(scope="module")
def routes_stack(routes_env: RoutesEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running(routes_env, SERVICES, tmp_path_factory.mktemp("routes-logs")) as stack:
        yield stack


@pytest.fixture(scope="module")
def base_url(routes_stack: Stack) -> str:
    """Where the API answers: the gateway in front of routes and signing."""
    return routes_stack.url("gateway")


@pytest_asyncio.fixture(loop_scope="session")
async def route_events(amqp_url: str, routes_env: RoutesEnv) -> AsyncIterator[EventTap]:
    """Every event on this module's exchange from the start of the test."""
    async with tapped(amqp_url, routes_env, sealer=event_sealer(routes_env.env)) as tap:
        yield tap


class World(ProjectionWorld):
    """The projection world over routes' and signing's copies, and routes' signer entries."""

    @property
    def signing_db(self) -> Any:
        """Signing's database (the second the world keeps)."""
        return self.dbs[1]

    async def wait_for_entry(self, request_id: str, user_id: str, status: str) -> None:
        """Wait until routes has marked ``user_id``'s entry of the request with ``status``."""
        async def marked() -> bool:
            entry = await self.db.request_signers.find_one({"request_id": request_id, "user_id": user_id})
            return entry is not None and entry["status"] == status

        await eventually(marked, timeout=30, what=f"entry of {user_id} {status}")


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(routes_stack: Stack, routes_env: RoutesEnv, amqp_url: str, mongo_url: str,
                local_issuer: LocalIssuer, base_url: str) -> AsyncIterator[World]:
    def make(bus: EventBus) -> World:
        return World(bus, local_issuer, mongo_url, base_url, service="routes",
                     databases=[routes_env.database("routes"), routes_env.database("signing")])

    async with opened(amqp_url, routes_env, "routes", make) as world:
        yield world


@pytest.fixture
def http(world: World) -> httpx.AsyncClient:
    return world.http


# --- the whole stack through its gateway (test_end_to_end.py, test_scenarios.py) -----------------

@pytest.fixture(scope="module")
def trusted_ca(platform_env: dict[str, str], pki: Pki) -> Pki:
    """The test CA in the signing service's default trust directory."""
    trust_in_default_dir(platform_env, pki.ca.cert_pem, "routes-ca")
    return pki


@pytest.fixture
def account(client: httpx.AsyncClient, events: EventTap) -> Callable[[str], Awaitable[dict[str, Any]]]:
    """Signs a person up through the gateway: their id, e-mail, name and bearer headers."""
    async def make(name: str) -> dict[str, Any]:
        made = await sign_up(client, events, name)
        return {"id": made.id, "email": made.email, "name": name, "headers": made.headers}

    return make
