"""Fixtures for the signing service on real servers: its own process per test module (fresh
database and broker namespace), a test PKI generated at test time, and a `world` that publishes
the user.* / document.* events the service builds its projection from (``docflow_dev.testing.world``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from docflow_dev.devstack import Stack
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.world import ModuleEnv, Pki, make_pki, module_env, opened, running, tapped
from docflow_dev.testing.world import World as ProjectionWorld
from docflow_shared.bus import EventBus

SigningEnv = ModuleEnv


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory)


@pytest.fixture(scope="module")
def signing_env(platform_env: dict[str, str], local_issuer: LocalIssuer, pki: Pki,
                request: pytest.FixtureRequest) -> SigningEnv:
    """Environment of this module's signing process: own database prefix and broker namespace."""
    return module_env(platform_env, local_issuer, pki, request, service="signing", tag="sig")


@pytest.fixture(scope="module")
def signing_stack(signing_env: SigningEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running(signing_env, ("signing",), tmp_path_factory.mktemp("signing-logs")) as stack:
        yield stack


@pytest.fixture(scope="module")
def base_url(signing_stack: Stack) -> str:
    """Where the signing API answers (the service itself; point it at the gateway for end-to-end runs)."""
    return signing_stack.url("signing")


@pytest_asyncio.fixture(loop_scope="session")
async def signing_events(amqp_url: str, signing_env: SigningEnv) -> AsyncIterator[EventTap]:
    """Every event on this module's exchange from the start of the test."""
    async with tapped(amqp_url, signing_env) as tap:
        yield tap


class World(ProjectionWorld):
    """The projection world, and what signing's consumer counted."""

    metrics_url = ""

    async def acknowledged(self, event_type: str) -> int:
        """How many ``event_type`` events signing has taken from its queue and acknowledged as handled,
        a duplicate included (its ``docflow_events_consumed_total`` counter)."""
        response = await self.http.get(self.metrics_url)
        assert response.status_code == 200, response.text
        wanted = {"service": "signing", "type": event_type, "outcome": "handled"}
        return sum(int(sample.value) for family in text_string_to_metric_families(response.text)
                   for sample in family.samples
                   if sample.name == "docflow_events_consumed_total" and wanted.items() <= sample.labels.items())

    async def wait_acknowledged(self, event_type: str, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while (seen := await self.acknowledged(event_type)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"signing acknowledged {seen} {event_type} events, never {count}")
            await asyncio.sleep(0.1)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(signing_stack: Stack, signing_env: SigningEnv, amqp_url: str, mongo_url: str,
                local_issuer: LocalIssuer, base_url: str) -> AsyncIterator[World]:
    def make(bus: EventBus) -> World:
        world = World(bus, local_issuer, mongo_url, base_url, service="signing",
                      databases=[signing_env.database("signing")])
        world.metrics_url = signing_stack.metrics_url("signing")
        return world

    async with opened(amqp_url, signing_env, "signing", make) as world:
        yield world


@pytest.fixture
def http(world: World) -> httpx.AsyncClient:
    return world.http
