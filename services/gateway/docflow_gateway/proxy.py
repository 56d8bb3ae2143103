"""The proxy: token checks, rate limits and streaming forwarding to the upstream services.

A plain ASGI callable rather than a FastAPI route: every request passes here, so it does
only what it must and streams both bodies without buffering them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

import aiohttp
from opentelemetry.trace import SpanKind
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from starlette.types import Receive, Scope, Send

from docflow_gateway.asgi import RequestBody, cookies_of, normal_path
from docflow_gateway.ratelimit import SharedLimiter
from docflow_gateway.routing import ADMIN, PUBLIC, RouteTable, Upstream, limit_name
from docflow_gateway.settings import GatewaySettings
from docflow_shared import tracing
from docflow_shared.bodylimit import answer_before_body_end
from docflow_shared.errors import PROBLEM_BASE, DocFlowError, Forbidden, TooManyRequests, Unauthorized
from docflow_shared.metrics import UPSTREAM_ROUTE
from docflow_shared.mongo import create_client, ensure_indexes_forever
from docflow_shared.tokens import AccessTokenVerifier, Principal
from docflow_shared.web import ACCESS_COOKIE, CSRF_COOKIE, SAFE_METHODS

logger = logging.getLogger(__name__)

HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
    b"trailer", b"transfer-encoding", b"upgrade", b"host",
})
DROPPED_REQUEST = HOP_BY_HOP | {b"x-forwarded-for", b"x-real-ip", b"x-forwarded-proto",
                                b"x-forwarded-host", b"x-user-id"}
DROPPED_RESPONSE = HOP_BY_HOP
# Methods a replica that dropped the connection may be asked again (RFC 9110, 9.2.2), when the
# request has no body: it may have reached the replica, but doing it twice changes nothing.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# A replica that refused a connection is tried last for this long (docs/architecture.md, "Replicas").
REPLICA_COOLDOWN_SECONDS = 2.0


async def send_problem(send: Send, status: int, title: str, detail: str, slug: str, *,
                       request_id: str, headers: dict[str, str] | None = None,
                       instance: str | None = None, unread_body: Receive | None = None) -> None:
    """A problem+json answer; with ``unread_body`` (the request's receive, its body not read to the
    end) the answer goes out whole before the rest of the body is read and dropped."""
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    raw = json.dumps(body).encode()
    out = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(raw)).encode()),
           (b"x-request-id", request_id.encode("latin-1"))]
    out += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    if unread_body is not None:
        await answer_before_body_end(send, unread_body, status, out, raw, linger=True)
        return
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": raw})


class Proxy:
    """Forwards ``/api/v1/*`` and the JWKS to the upstream that owns the path."""

    def __init__(self, settings: GatewaySettings, routes: RouteTable, verifier: AccessTokenVerifier) -> None:
        self.settings = settings
        self.routes = routes
        self.verifier = verifier
        self.session: aiohttp.ClientSession | None = None
        self._index_task: asyncio.Task[None] | None = None
        self.mongo: AsyncMongoClient[dict[str, Any]] | None = None
        self._down: dict[str, float] = {}  # replica base URL -> monotonic time it is tried last until
        self._limits(None)

    def _limits(self, counters: AsyncCollection[dict[str, Any]] | None) -> None:
        settings = self.settings
        per_ip = {
            "signup": settings.rate_limit_signup_per_minute, "login": settings.rate_limit_login_per_minute,
            "forgot": settings.rate_limit_forgot_per_minute, "verify": settings.rate_limit_verify_per_minute,
            "availability": settings.rate_limit_availability_per_minute,
        }
        self.ip_limits = {name: SharedLimiter(counters, name, limit) for name, limit in per_ip.items()}
        self.user_limit = SharedLimiter(counters, "user", settings.rate_limit_user_per_minute)

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.settings.upstream_connections, ttl_dns_cache=300,
                                         enable_cleanup_closed=True)
        timeout = aiohttp.ClientTimeout(total=None, connect=self.settings.upstream_connect_timeout,
                                        sock_read=self.settings.upstream_read_timeout)
        self.session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False,
                                             skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"))
        if self.settings.rate_limit_enabled and self.settings.rate_limit_shared:
            self.mongo = create_client(self.settings.mongodb_url, timeout_ms=self.settings.mongodb_timeout_ms)
            counters = self.mongo[self.settings.database_name]["rate_limits"]
            self._limits(counters)

            async def indexes() -> None:
                await counters.create_index("expires_at", expireAfterSeconds=0)

            self._index_task = await ensure_indexes_forever(indexes, first_timeout=3)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.mongo is not None:
            await self.mongo.close()

    def client_ip(self, scope: Scope, headers: dict[bytes, bytes]) -> str:
        # X-Forwarded-For was already applied (or ignored) by the trusted-proxy middleware.
        return str((scope.get("client") or ("unknown", 0))[0])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not tracing.enabled():  # the common case: no span, the caller's traceparent passes as is
            await self._handle(scope, receive, send)
            return
        with tracing.span(f"{scope['method']} gateway", kind=SpanKind.SERVER,
                          parent=dict(scope["headers"]).get(b"traceparent", b"").decode("latin-1") or None,
                          attributes={"http.request.method": scope["method"]}):
            await self._handle(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:128] or uuid.uuid4().hex
        if not normal_path(path, scope.get("raw_path")):
            # Matching and forwarding must see one path: one the upstream could read differently is refused.
            await send_problem(send, 400, "Bad request", "The path has dot segments or encoded slashes.",
                               "malformed-path", request_id=request_id)
            return
        upstream = self.routes.match(path)
        if upstream is None:
            await send_problem(send, 404, "Not found", f"No route for {path}.", "not-found",
                               request_id=request_id, instance=path)
            return
        scope[UPSTREAM_ROUTE] = f"upstream:{upstream.name}"
        ip = self.client_ip(scope, headers)
        try:
            principal = await self._authorise(path, method, headers, ip)
        except DocFlowError as exc:
            await send_problem(send, exc.status, exc.title, exc.detail, exc.slug, request_id=request_id,
                               headers=exc.headers, instance=path)
            return
        await self._forward(scope, receive, send, upstream, headers, request_id, ip, principal)

    async def _authorise(self, path: str, method: str, headers: dict[bytes, bytes], ip: str) -> Principal | None:
        if self.settings.rate_limit_enabled and (name := limit_name(method, path)) is not None:
            wait = await self.ip_limits[name].hit(ip)
            if wait:
                raise TooManyRequests(f"Too many {name} attempts from this address.", retry_after=wait)
        if PUBLIC.match(path):
            return None
        token, from_cookie, cookies = None, False, None
        auth = headers.get(b"authorization")
        if auth is not None:
            scheme, _, value = auth.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                token = value.strip()
        else:
            cookies = cookies_of(headers)
            token = cookies.get(ACCESS_COOKIE)
            from_cookie = token is not None
        if not token:
            raise Unauthorized("Authentication is required.", slug="unauthenticated")
        if from_cookie and method not in SAFE_METHODS:
            csrf = (cookies or {}).get(CSRF_COOKIE)
            sent = headers.get(b"x-csrf-token", b"").decode("latin-1")
            if not csrf or sent != csrf:
                raise Forbidden("The CSRF token is missing or does not match.", slug="csrf")
        return await self.admit(path, token)

    async def admit(self, path: str, token: str) -> Principal:
        """The token's principal, if it is valid, not revoked, allowed on ``path`` and within the
        account's rate limit (HTTP requests and WebSockets alike)."""
        principal = await self.verifier.verify(token)
        if ADMIN.match(path) and not principal.is_admin:
            raise Forbidden("This needs the admin role.")
        if self.settings.rate_limit_enabled:
            wait = await self.user_limit.hit(principal.user_id)
            if wait:
                raise TooManyRequests("Too many requests for this account.", retry_after=wait)
        return principal

    def replicas(self, upstream: Upstream) -> list[str]:
        """The upstream's replicas in the order to try them: its rotation, with those that
        refused a connection in the last ``REPLICA_COOLDOWN_SECONDS`` moved to the end."""
        now = time.monotonic()
        order = upstream.rotation()
        return sorted(order, key=lambda url: self._down.get(url, 0.0) > now)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, upstream: Upstream,
                       headers: dict[bytes, bytes], request_id: str, ip: str,
                       principal: Principal | None) -> None:
        """Send the request to one of the upstream's replicas and stream the answer back.

        A replica that refuses the connection never saw the request, so the next one is tried,
        whatever the method. One that drops the connection may have acted on it: only a request
        without a body and with an idempotent method goes on to the next; any other is answered
        503 with Retry-After, never replayed. No replica answering is 503 with Retry-After too."""
        assert self.session is not None
        service = upstream.name
        target = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else scope["path"]
        query = scope.get("query_string", b"")
        if query:
            target += "?" + query.decode("latin-1")
        out_headers = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k not in DROPPED_REQUEST
        }
        out_headers["x-request-id"] = request_id
        out_headers["x-forwarded-for"] = ip
        out_headers["x-real-ip"] = ip
        out_headers["x-forwarded-proto"] = scope.get("scheme", "http")
        if tracing.enabled() and (traceparent := tracing.current_traceparent()):
            out_headers["traceparent"] = traceparent
        has_body = (b"content-length" in headers and headers[b"content-length"] != b"0") or \
            b"transfer-encoding" in headers
        data = RequestBody(receive) if has_body else None
        replayable = data is None and scope["method"] in IDEMPOTENT
        started = False
        for base_url in self.replicas(upstream):
            try:
                async with self.session.request(
                    scope["method"], base_url + target, headers=out_headers, data=data, allow_redirects=False,
                    compress=None, chunked=None,
                ) as resp:
                    response_headers = [
                        (k.lower(), v) for k, v in resp.raw_headers
                        if k.lower() not in DROPPED_RESPONSE and k.lower() != b"x-request-id"
                    ]
                    response_headers.append((b"x-request-id", request_id.encode("latin-1")))
                    started = True
                    await send({"type": "http.response.start", "status": resp.status, "headers": response_headers})
                    if scope["method"] == "HEAD":
                        await send({"type": "http.response.body", "body": b""})
                        return
                    async for chunk in resp.content.iter_any():
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    await send({"type": "http.response.body", "body": b""})
                    return
            except aiohttp.ClientConnectorError as exc:  # refused: the replica never saw the request
                self._down[base_url] = time.monotonic() + REPLICA_COOLDOWN_SECONDS
                logger.warning("upstream %s replica %s unreachable: %r", service, base_url, exc)
            except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError,
                    ConnectionResetError) as exc:
                self._down[base_url] = time.monotonic() + REPLICA_COOLDOWN_SECONDS
                logger.warning("upstream %s replica %s dropped the connection: %r", service, base_url, exc)
                if started or not replayable:
                    break
            except TimeoutError:
                logger.warning("upstream %s timed out", service)
                if not started:
                    await _send_unavailable(send, service, request_id, scope["path"], timed_out=True,
                                            unread_body=receive if data is not None and not data.ended else None)
                return
        if not started:
            await _send_unavailable(send, service, request_id, scope["path"],
                                    unread_body=receive if data is not None and not data.ended else None)


async def _send_unavailable(send: Send, service: str, request_id: str, path: str, *, timed_out: bool = False,
                            unread_body: Receive | None = None) -> None:
    detail = (f"The {service} service did not answer in time." if timed_out
              else f"The {service} service is unreachable; try again shortly.")
    try:
        await send_problem(send, 503 if not timed_out else 504, "Service unavailable" if not timed_out
                           else "Gateway timeout", detail, "unavailable", request_id=request_id,
                           headers={"Retry-After": "5"}, instance=path, unread_body=unread_body)
    except RuntimeError:
        # the response had already started; the connection is cut, nothing more to say
        pass
