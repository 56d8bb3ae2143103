"""The FastAPI shell every service shares: app factory, request ids, health, auth dependencies."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docflow_shared.errors import Forbidden, Unauthorized, install_error_handlers
from docflow_shared.logging import correlation_id_var, request_id_var
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.tokens import Principal, bearer_token

REQUEST_ID_HEADER = "x-request-id"
ACCESS_COOKIE = "docflow_access"
CSRF_COOKIE = "docflow_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


def create_service_app(
    *,
    title: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: list[APIRouter],
    version: str = "1.0.0",
    **state: Any,
) -> FastAPI:
    """A service app: routers under their prefixes, problem+json errors, /health, /ready."""
    app = FastAPI(title=title, version=version, lifespan=lifespan)
    for key, value in state.items():
        setattr(app.state, key, value)
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)
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


def get_runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]


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


