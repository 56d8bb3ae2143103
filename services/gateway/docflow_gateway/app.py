"""The gateway app: the proxy for the API, plus /health, /ready, /openapi.json and /docs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

import aiohttp
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from docflow_gateway.openapi import OpenAPIAggregator
from docflow_gateway.proxy import Proxy
from docflow_gateway.routing import RouteTable
from docflow_gateway.settings import GatewaySettings
from docflow_shared.errors import install_error_handlers
from docflow_shared.logging import configure_logging
from docflow_shared.tokens import AccessTokenVerifier, JWKSCache
from docflow_shared.web import RequestIdMiddleware

PROXIED_PREFIXES = ("/api/", "/.well-known/")


class Gateway:
    """Sends API paths to the proxy and everything else to the small ops app."""

    def __init__(self, ops: ASGIApp, proxy: Proxy) -> None:
        self.ops = ops
        self.proxy = proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PROXIED_PREFIXES):
            await self.proxy(scope, receive, send)
            return
        await self.ops(scope, receive, send)


async def _broker_reachable(amqp_url: str) -> bool:
    parsed = urlparse(amqp_url)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(parsed.hostname or "127.0.0.1", parsed.port or 5672), 2
        )
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


def create_app(settings: GatewaySettings | None = None) -> Gateway:
    settings = settings or GatewaySettings()
    configure_logging("gateway", settings.log_level, as_json=settings.log_json)
    routes = RouteTable.from_settings(settings)
    jwks = JWKSCache(settings.jwks_url)
    verifier = AccessTokenVerifier(jwks, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    proxy = Proxy(settings, routes, verifier)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await proxy.start()
        yield
        await proxy.close()
        await jwks.close()

    ops = FastAPI(title="DocFlow gateway", version="1.0.0", lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None)
    install_error_handlers(ops)
    ops.add_middleware(RequestIdMiddleware)
    aggregator = OpenAPIAggregator(routes.upstreams(), _gateway_spec(), settings.openapi_cache_seconds)

    @ops.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @ops.get("/ready")
    async def ready() -> JSONResponse:
        assert proxy.session is not None
        checks: dict[str, Any] = {}

        async def probe(name: str, url: str) -> None:
            try:
                async with proxy.session.get(f"{url}/ready",  # type: ignore[union-attr]
                                             timeout=aiohttp.ClientTimeout(total=3)) as resp:
                    body = await resp.json(content_type=None)
                    checks[name] = "up" if resp.status == 200 else {"status": "degraded", **body.get("checks", {})}
            except (aiohttp.ClientError, TimeoutError, ValueError):
                checks[name] = "down"

        await asyncio.gather(*(probe(u.name, u.base_url) for u in routes.upstreams().values()))
        checks["broker"] = "up" if await _broker_reachable(settings.amqp_url) else "down"
        ok = all(v == "up" for v in checks.values())
        return JSONResponse({"status": "ready" if ok else "degraded", "checks": checks},
                            status_code=200 if ok else 503, headers={} if ok else {"Retry-After": "5"})

    @ops.get("/openapi.json")
    async def openapi() -> JSONResponse:
        assert proxy.session is not None
        return JSONResponse(await aggregator.spec(proxy.session))

    @ops.get("/docs", response_class=HTMLResponse)
    async def docs(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="DocFlow API")

    return Gateway(RequestIdMiddleware(ops), proxy)


def _gateway_spec() -> dict[str, Any]:
    ok = {"200": {"description": "OK"}}
    return {
        "paths": {
            "/health": {"get": {"tags": ["ops"], "summary": "The gateway is alive", "responses": ok,
                                "security": []}},
            "/ready": {"get": {"tags": ["ops"], "summary": "Upstreams and broker are reachable",
                               "responses": {**ok, "503": {"description": "Something is down"}},
                               "security": []}},
        },
    }
