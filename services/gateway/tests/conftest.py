"""A gateway process in front of a small upstream that shows what it received."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.issuer import LocalIssuer


async def _echo(request: web.Request) -> web.Response:
    await request.read()  # like the services: the whole (bounded) body before the answer
    return web.json_response({
        "method": request.method, "path": request.path, "query": request.query_string,
        "headers": {k.lower(): v for k, v in request.headers.items()},
    })


async def _upload(request: web.Request) -> web.Response:
    digest, size = hashlib.sha256(), 0
    async for chunk in request.content.iter_any():
        digest.update(chunk)
        size += len(chunk)
    return web.json_response({"sha256": digest.hexdigest(), "size": size})


async def _blob(request: web.Request) -> web.StreamResponse:
    size = int(request.query["size"])
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = size
    await response.prepare(request)
    block = bytes(range(256)) * 4096
    sent = 0
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        await response.write(piece)
        sent += len(piece)
    await response.write_eof()
    return response


async def _spec(request: web.Request) -> web.Response:
    return web.json_response({"openapi": "3.1.0", "info": {"title": "echo", "version": "1"},
                              "paths": {"/api/v1/documents": {"get": {"responses": {"200": {"description": "ok"}}}}},
                              "components": {"schemas": {"Thing": {"type": "object"}}}})


async def _ready(request: web.Request) -> web.Response:
    return web.json_response({"status": "ready", "checks": {}})


class EchoUpstream:
    def __init__(self) -> None:
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=1024**3)
        app.router.add_post("/api/v1/documents/{document_id}/files", _upload)
        app.router.add_get("/api/v1/documents/blob", _blob)
        app.router.add_get("/openapi.json", _spec)
        app.router.add_get("/ready", _ready)
        app.router.add_route("*", "/{tail:.*}", _echo)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def upstream() -> AsyncIterator[EchoUpstream]:
    echo = EchoUpstream()
    await echo.start()
    yield echo
    await echo.stop()


def start_gateway(env: dict[str, str], logs: Path, **extra: str) -> Stack:
    """A gateway with a database of its own (its shared rate-limit counters), unless ``extra`` names one."""
    port = free_port()
    own = {"MONGODB_DB_PREFIX": f"{env.get('MONGODB_DB_PREFIX', '')}{uuid.uuid4().hex[:6]}_"}
    return Stack(env={**env, **own, **extra}, ports={"gateway": port}, only=("gateway",), log_dir=logs).start()


@pytest.fixture(scope="module")
def gateway(upstream: EchoUpstream, platform_env: dict[str, str], local_issuer: LocalIssuer,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway whose every upstream is the echo server, trusting the local issuer's key."""
    running = start_gateway(
        platform_env, tmp_path_factory.mktemp("gw"),
        AUTH_URL=upstream.url, DOCUMENTS_URL=upstream.url, SIGNING_URL=upstream.url, MAIL_URL=upstream.url,
        JWKS_URL=local_issuer.jwks_url,
    )
    yield running.url("gateway")
    running.stop()
