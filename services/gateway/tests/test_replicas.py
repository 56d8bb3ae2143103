"""A service's replicas behind the gateway (docs/architecture.md, "Replicas"): ``<SVC>_URL`` lists
them, requests take them in turn, a replica that refuses connections is skipped, and a request
that may have reached a replica that then dropped it is never replayed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.asserts import assert_problem
from docflow_dev.testing.issuer import LocalIssuer

from .conftest import start_gateway


class Replica:
    """An upstream replica that says who it is and counts what it served."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = free_port()
        self.seen: list[str] = []
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _answer(self, request: web.Request) -> web.Response:
        await request.read()
        if request.path != "/ready":
            self.seen.append(request.method)
        return web.json_response({"replica": self.name}, status=201 if request.method == "POST" else 200)

    async def _spec(self, request: web.Request) -> web.Response:
        return web.json_response({"openapi": "3.1.0", "info": {"title": self.name, "version": "1"}, "paths": {
            "/api/v1/documents": {"get": {"responses": {"200": {"description": "ok"}}}}}})

    async def start(self) -> Replica:
        app = web.Application()
        app.router.add_get("/openapi.json", self._spec)
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


class Dropper:
    """A replica that reads the request, then closes the connection without an answer, as one
    killed while handling it does. Counts the requests it read."""

    def __init__(self) -> None:
        self.port = free_port()
        self.read = 0
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _drop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            self.read += 1
        writer.close()

    async def start(self) -> Dropper:
        self.server = await asyncio.start_server(self._drop, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def replicas() -> AsyncIterator[tuple[Replica, Replica, Dropper]]:
    first, second, dropper = await Replica("one").start(), await Replica("two").start(), await Dropper().start()
    yield first, second, dropper
    for server in (first, second, dropper):
        await server.stop()


@pytest.fixture(scope="module")
def gateway_for(platform_env: dict[str, str], local_issuer: LocalIssuer,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    started: list[Stack] = []

    def start(documents_url: str, jwks_url: str = local_issuer.jwks_url) -> str:
        stack = start_gateway(platform_env, Path(tmp_path_factory.mktemp("gw-replicas")), AUTH_URL="",
                              DOCUMENTS_URL=documents_url, SIGNING_URL="", MAIL_URL="", AUDIT_URL="",
                              JWKS_URL=jwks_url)
        started.append(stack)
        return stack.url("gateway")

    yield start
    for stack in started:
        stack.stop()


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there: connections are refused


async def test_requests_take_the_replicas_in_turn(
    replicas: tuple[Replica, Replica, Dropper], gateway_for, local_issuer: LocalIssuer  # type: ignore[no-untyped-def]
) -> None:
    first, second, _ = replicas
    url = gateway_for(f"{first.url},{second.url}/")
    headers = {"Authorization": f"Bearer {local_issuer.token('u1')}"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        served = [(await client.get("/api/v1/documents", headers=headers)).json()["replica"] for _ in range(10)]
        ready = await client.get("/ready")
    assert served.count("one") == 5 and served.count("two") == 5, served
    assert ready.json()["checks"]["documents"] == "up"


async def test_a_replica_refusing_connections_is_skipped_for_every_method(
    replicas: tuple[Replica, Replica, Dropper], gateway_for, local_issuer: LocalIssuer  # type: ignore[no-untyped-def]
) -> None:
    first, _, _ = replicas
    before = len(first.seen)
    url = gateway_for(f"{dead_url()},{first.url}")
    headers = {"Authorization": f"Bearer {local_issuer.token('u1')}"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for _ in range(4):
            got = await client.get("/api/v1/documents", headers=headers)
            assert got.status_code == 200 and got.json()["replica"] == "one"
            posted = await client.post("/api/v1/documents", headers=headers, json={"title": "t"})
            assert posted.status_code == 201 and posted.json()["replica"] == "one"
        ready = await client.get("/ready")
        spec = (await client.get("/openapi.json")).json()
    assert first.seen[before:] == ["GET", "POST"] * 4
    assert "/api/v1/documents" in spec["paths"] and "x-unavailable-services" not in spec["info"]
    assert ready.json()["checks"]["documents"] == "up"  # one replica ready is enough


async def test_a_request_with_a_body_is_not_replayed_after_a_replica_dropped_it(
    replicas: tuple[Replica, Replica, Dropper], gateway_for, local_issuer: LocalIssuer  # type: ignore[no-untyped-def]
) -> None:
    first, _, dropper = replicas
    url = gateway_for(f"{dropper.url},{first.url}")
    headers = {"Authorization": f"Bearer {local_issuer.token('u1')}"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        before, dropped = len(first.seen), dropper.read
        posted = await client.post("/api/v1/documents", headers=headers, json={"title": "t"})
        # the dropper read it and may have acted on it: 503 with Retry-After, never a second replica
        assert_problem(posted, 503)
        assert posted.headers["retry-after"]
        assert dropper.read == dropped + 1 and first.seen[before:] == []
        # a GET has no effect to double: the next replica answers it
        got = await client.get("/api/v1/documents", headers=headers)
        assert got.status_code == 200 and got.json()["replica"] == "one"


async def test_no_replica_answering_is_503_with_retry_after_at_once(
    gateway_for, local_issuer: LocalIssuer  # type: ignore[no-untyped-def]
) -> None:
    url = gateway_for(f"{dead_url()},{dead_url()}")
    headers = {"Authorization": f"Bearer {local_issuer.token('u1')}"}
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        response = await client.post("/api/v1/documents", headers=headers, json={"title": "t"})
        body = assert_problem(response, 503)
        assert response.headers["retry-after"] and "documents" in str(body["detail"])
        ready = await client.get("/ready")
    assert ready.json()["checks"]["documents"] == "down"


async def test_token_keys_come_from_the_auth_replica_that_answers(
    replicas: tuple[Replica, Replica, Dropper], gateway_for, local_issuer: LocalIssuer  # type: ignore[no-untyped-def]
) -> None:
    first, _, _ = replicas
    dead_jwks = f"{dead_url()}/.well-known/jwks.json"
    url = gateway_for(first.url, jwks_url=f"{dead_jwks},{local_issuer.jwks_url}")
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        got = await client.get("/api/v1/documents", headers={"Authorization": f"Bearer {local_issuer.token('u1')}"})
    assert got.status_code == 200, got.text
