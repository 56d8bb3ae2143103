"""The gateway app: the proxy for the API, plus /health, /ready, /openapi.json and /docs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

import aiohttp
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from docflow_gateway.openapi import OpenAPIAggregator
from docflow_gateway.proxy import Proxy
from docflow_gateway.routing import UPLOADS, RouteTable
from docflow_gateway.settings import GatewaySettings
from docflow_gateway.websocket import SocketProxy
from docflow_shared.bodylimit import BodyLimitMiddleware
from docflow_shared.bus import EventBus
from docflow_shared.errors import install_error_handlers
from docflow_shared.logging import configure_logging
from docflow_shared.metrics import HttpMetricsMiddleware, MetricsServer
from docflow_shared.revocations import REVOCATION_EVENTS, RevocationList
from docflow_shared.settings import load_settings
from docflow_shared.tokens import AccessTokenVerifier, JWKSCache
from docflow_shared.tracing import configure_tracing, flush
from docflow_shared.web import RequestIdMiddleware, add_swagger_ui, trusted_proxy_headers

PROXIED_PREFIXES = ("/api/", "/.well-known/")


class Gateway:
    """Sends API paths to the proxy (WebSockets to the socket proxy) and everything else to the
    small ops app."""

    def __init__(self, ops: ASGIApp, proxy: Proxy) -> None:
        self.ops = ops
        self.proxy = proxy
        self.sockets = SocketProxy(proxy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PROXIED_PREFIXES):
            await self.proxy(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self.sockets(scope, receive, send)
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


def create_app(settings: GatewaySettings | None = None) -> ASGIApp:
    settings = settings or load_settings(GatewaySettings)
    configure_logging("gateway", settings.log_level, as_json=settings.log_json)
    configure_tracing(settings)
    metrics = MetricsServer(settings.metrics_port, settings.metrics_host)
    routes = RouteTable.from_settings(settings)
    jwks = JWKSCache(settings.jwks_url)
    revocations = RevocationList(ttl=settings.access_token_lifetime)
    verifier = AccessTokenVerifier(jwks, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                                   revocations=revocations)
    proxy = Proxy(settings, routes, verifier)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        bus = EventBus(amqp_url=settings.amqp_url, service="gateway", namespace=settings.broker_namespace,
                       user_prefix=settings.broker_user_prefix)
        bus.subscribe_broadcast(REVOCATION_EVENTS, revocations.apply)
        metrics.start()
        await bus.start()
        await proxy.start()
        yield
        await proxy.close()
        await bus.close()
        await jwks.close()
        await asyncio.to_thread(metrics.stop)
        await asyncio.to_thread(flush)

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
        session = proxy.session
        assert session is not None
        checks: dict[str, Any] = {}

        async def probe(name: str, urls: tuple[str, ...]) -> None:
            # a service with replicas is up while one of them is ready
            for url in urls:
                try:
                    async with session.get(f"{url}/ready", timeout=aiohttp.ClientTimeout(total=3)) as resp:
                        body = await resp.json(content_type=None)
                        checks[name] = "up" if resp.status == 200 else {"status": "degraded",
                                                                        **body.get("checks", {})}
                except (aiohttp.ClientError, TimeoutError, ValueError):
                    checks.setdefault(name, "down")
                if checks.get(name) == "up":
                    return

        await asyncio.gather(*(probe(u.name, u.base_urls) for u in routes.upstreams().values()))
        checks["broker"] = "up" if await _broker_reachable(settings.amqp_url) else "down"
        ok = all(v == "up" for v in checks.values())
        return JSONResponse({"status": "ready" if ok else "degraded", "checks": checks},
                            status_code=200 if ok else 503, headers={} if ok else {"Retry-After": "5"})

    @ops.get("/openapi.json")
    async def openapi() -> JSONResponse:
        assert proxy.session is not None
        return JSONResponse(await aggregator.spec(proxy.session))

    add_swagger_ui(ops, openapi_url="/openapi.json", title="DocFlow API")

    bounded = BodyLimitMiddleware(Gateway(RequestIdMiddleware(ops), proxy), default=settings.max_body_bytes,
                                  caps=[(method, path, settings.max_upload_bytes) for method, path in UPLOADS])
    # /metrics is served by MetricsServer on its own port, never here (docs/architecture.md)
    return trusted_proxy_headers(HttpMetricsMiddleware(bounded, service="gateway"), settings.trusted_proxies)


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
