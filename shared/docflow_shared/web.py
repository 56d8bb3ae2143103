"""The FastAPI shell every service shares: app factory, request ids, health, auth dependencies."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from importlib.resources import files
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from docflow_shared.bodylimit import BodyCap, BodyLimitMiddleware
from docflow_shared.errors import Forbidden, Unauthorized, install_error_handlers
from docflow_shared.events.person import Client
from docflow_shared.logging import configure_logging, correlation_id_var, request_id_var
from docflow_shared.metrics import HttpMetricsMiddleware
from docflow_shared.openapi import refine_openapi
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.settings import ServiceSettings, load_settings
from docflow_shared.tokens import Principal, bearer_token
from docflow_shared.tracing import TracingMiddleware, configure_tracing

ACCESS_COOKIE = "docflow_access"
CSRF_COOKIE = "docflow_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Swagger UI's scripts and styles, served by the app itself from the fastapi-offline package
# (pinned in constraints.txt), so that /docs works in networks without internet
SWAGGER_ASSETS_URL = "/docs-assets"


class RequestIdMiddleware:
    """Takes ``X-Request-ID`` (or makes one), puts it in the log context and the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:128]
                break
        request_id = request_id or uuid.uuid4().hex
        token_r = request_id_var.set(request_id)
        token_c = correlation_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token_r)
            correlation_id_var.reset(token_c)


def add_swagger_ui(app: FastAPI, *, openapi_url: str, title: str, docs_url: str = "/docs") -> None:
    """``docs_url``: Swagger UI for ``openapi_url`` with every asset served by ``app``, no CDN."""
    assets = files("fastapi_offline") / "static"
    app.mount(SWAGGER_ASSETS_URL, StaticFiles(directory=str(assets)), name="swagger-ui-assets")

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=title,
            swagger_js_url=f"{SWAGGER_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_ASSETS_URL}/favicon.png",
        )


def trusted_proxy_headers(app: ASGIApp, trusted_proxies: list[str]) -> ASGIApp:
    """Client address and scheme from X-Forwarded-For/-Proto, believed only from ``trusted_proxies``.

    uvicorn runs with ``--no-proxy-headers``; this is the one place forwarded headers count, so a
    caller that is not a configured proxy cannot choose its client IP (docs/architecture.md).
    """
    return ProxyHeadersMiddleware(app, trusted_hosts=list(trusted_proxies))  # type: ignore[arg-type,return-value]


S = TypeVar("S", bound=ServiceSettings)
API_PREFIX = "/api/v1"


def api_routers(*mounts: tuple[str, APIRouter, str]) -> list[APIRouter]:
    """A service's API under ``/api/v1``: each ``(prefix, router, tag)`` mounted at its prefix,
    under its tag in the OpenAPI document (``api.py::routers()`` of every service but auth)."""
    api = APIRouter(prefix=API_PREFIX)
    for prefix, router, tag in mounts:
        api.include_router(router, prefix=prefix, tags=[tag])
    return [api]


def app_settings(settings_class: type[S], settings: S | None = None) -> S:
    """An app factory's settings: those given (tests), else the environment's (``load_settings``),
    with the service's logging configured from them."""
    settings = settings or load_settings(settings_class)
    configure_logging(settings.service_name, settings.log_level, as_json=settings.log_json)
    return settings


def create_service_app(
    *,
    title: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: list[APIRouter],
    version: str = "1.0.0",
    id_patterns: Mapping[str, str] | None = None,
    settings: ServiceSettings | None = None,
    body_caps: Sequence[BodyCap] = (),
    **state: Any,
) -> FastAPI:
    """A service app: routers under their prefixes, problem+json errors, /health, /ready,
    request metrics, and a span per request when tracing is configured.

    ``id_patterns`` maps path parameter names to the shape of the service's ids, for the
    OpenAPI document (a malformed id is still answered as not found).
    """
    app = FastAPI(title=title, version=version, lifespan=lifespan, docs_url=None, redoc_url=None)
    refine_openapi(app, id_patterns=id_patterns)
    add_swagger_ui(app, openapi_url=app.openapi_url or "/openapi.json", title=title)
    if settings is not None:
        app.state.settings = settings
    for key, value in state.items():
        setattr(app.state, key, value)
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    config = settings or ServiceSettings()
    app.add_middleware(BodyLimitMiddleware, default=config.max_body_bytes, caps=body_caps)
    app.add_middleware(ProxyHeadersMiddleware,  # type: ignore[arg-type]
                       trusted_hosts=list(config.trusted_proxies))
    app.add_middleware(HttpMetricsMiddleware, service=config.service_name)
    if configure_tracing(config):
        app.add_middleware(TracingMiddleware)
    for router in routers:
        app.include_router(router)

    @app.get("/health", tags=["ops"], include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"], include_in_schema=False)
    async def ready(request: Request) -> JSONResponse:
        runtime: ServiceRuntime = request.app.state.runtime
        checks = await runtime.readiness()
        ok = all(v == "up" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "degraded", "checks": checks},
            status_code=200 if ok else 503,
            headers={} if ok else {"Retry-After": "5"},
        )

    return app


async def current_principal(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer`` or the access cookie (CSRF-checked)."""
    cookie_token = request.cookies.get(ACCESS_COOKIE)
    header = request.headers.get("authorization")
    token = bearer_token(header, cookie_token)
    if token is None:
        raise Unauthorized("Authentication is required.", slug="unauthenticated")
    if header is None and request.method not in SAFE_METHODS:
        csrf_cookie = request.cookies.get(CSRF_COOKIE)
        if not csrf_cookie or request.headers.get(CSRF_HEADER) != csrf_cookie:
            raise Forbidden("The CSRF token is missing or does not match.", slug="csrf")
    runtime: ServiceRuntime = request.app.state.runtime
    return await runtime.verifier.verify(token)


async def admin_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden("This needs the admin role.")
    return principal


async def verified_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.email_verified:
        raise Forbidden("Confirm your e-mail address first.", slug="email-not-verified")
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]
AdminUser = Annotated[Principal, Depends(admin_principal)]
VerifiedUser = Annotated[Principal, Depends(verified_principal)]


async def request_client(request: Request) -> Client:
    """Where the request came from: the client address as the trusted-proxy middleware resolved
    it (the gateway's X-Forwarded-For), the user agent and the request id, for audit events."""
    return Client(ip=request.client.host if request.client else "",
                  user_agent=request.headers.get("user-agent", "")[:512],
                  request_id=request_id_var.get() or "")


RequestClient = Annotated[Client, Depends(request_client)]

