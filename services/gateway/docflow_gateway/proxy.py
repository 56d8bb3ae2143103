"""The proxy: token checks, rate limits and streaming forwarding to the upstream services.

A plain ASGI callable rather than a FastAPI route: every request passes here, so it does
only what it must and streams both bodies without buffering them.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from http.cookies import CookieError, SimpleCookie

import aiohttp
from starlette.types import Receive, Scope, Send

from docflow_gateway.ratelimit import RateLimiter
from docflow_gateway.routing import ADMIN, PUBLIC, RouteTable, limit_name
from docflow_gateway.settings import GatewaySettings
from docflow_shared.errors import PROBLEM_BASE, DocFlowError, Forbidden, TooManyRequests, Unauthorized
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


async def send_problem(send: Send, status: int, title: str, detail: str, slug: str, *,
                       request_id: str, headers: dict[str, str] | None = None,
                       instance: str | None = None) -> None:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    raw = json.dumps(body).encode()
    out = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(raw)).encode()),
           (b"x-request-id", request_id.encode("latin-1"))]
    out += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": raw})


class Proxy:
    """Forwards ``/api/v1/*`` and the JWKS to the upstream that owns the path."""

    def __init__(self, settings: GatewaySettings, routes: RouteTable, verifier: AccessTokenVerifier) -> None:
        self.settings = settings
        self.routes = routes
        self.verifier = verifier
        self.session: aiohttp.ClientSession | None = None
        self.ip_limits = {
            "signup": RateLimiter(settings.rate_limit_signup_per_minute),
            "login": RateLimiter(settings.rate_limit_login_per_minute),
            "forgot": RateLimiter(settings.rate_limit_forgot_per_minute),
            "verify": RateLimiter(settings.rate_limit_verify_per_minute),
        }
        self.user_limit = RateLimiter(settings.rate_limit_user_per_minute)

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.settings.upstream_connections, ttl_dns_cache=300,
                                         enable_cleanup_closed=True)
        timeout = aiohttp.ClientTimeout(total=None, connect=self.settings.upstream_connect_timeout,
                                        sock_read=self.settings.upstream_read_timeout)
        self.session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False,
                                             skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    def client_ip(self, scope: Scope, headers: dict[bytes, bytes]) -> str:
        peer = (scope.get("client") or ("unknown", 0))[0]
        if self.settings.trust_forwarded_for and peer in self.settings.trusted_proxies:
            forwarded = headers.get(b"x-forwarded-for")
            if forwarded:
                return forwarded.decode("latin-1").split(",")[0].strip()
        return str(peer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:128] or uuid.uuid4().hex
        upstream = self.routes.match(path)
        if upstream is None:
            await send_problem(send, 404, "Not found", f"No route for {path}.", "not-found",
                               request_id=request_id, instance=path)
            return
        ip = self.client_ip(scope, headers)
        try:
            principal = await self._authorise(path, method, headers, ip)
        except DocFlowError as exc:
            await send_problem(send, exc.status, exc.title, exc.detail, exc.slug, request_id=request_id,
                               headers=exc.headers, instance=path)
            return
        await self._forward(scope, receive, send, upstream.base_url, upstream.name, headers, request_id, ip,
                            principal)

    async def _authorise(self, path: str, method: str, headers: dict[bytes, bytes], ip: str) -> Principal | None:
        if self.settings.rate_limit_enabled and (name := limit_name(method, path)) is not None:
            wait = self.ip_limits[name].hit(ip)
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
            cookies = _cookies(headers)
            token = cookies.get(ACCESS_COOKIE)
            from_cookie = token is not None
        if not token:
            raise Unauthorized("Authentication is required.", slug="unauthenticated")
        if from_cookie and method not in SAFE_METHODS:
            csrf = (cookies or {}).get(CSRF_COOKIE)
            sent = headers.get(b"x-csrf-token", b"").decode("latin-1")
            if not csrf or sent != csrf:
                raise Forbidden("The CSRF token is missing or does not match.", slug="csrf")
        principal = await self.verifier.verify(token)
        if ADMIN.match(path) and not principal.is_admin:
            raise Forbidden("This needs the admin role.")
        if self.settings.rate_limit_enabled:
            wait = self.user_limit.hit(principal.user_id)
            if wait:
                raise TooManyRequests("Too many requests for this account.", retry_after=wait)
        return principal

    async def _forward(self, scope: Scope, receive: Receive, send: Send, base_url: str, service: str,
                       headers: dict[bytes, bytes], request_id: str, ip: str,
                       principal: Principal | None) -> None:
        assert self.session is not None
        query = scope.get("query_string", b"")
        url = base_url + scope["raw_path"].decode("latin-1") if scope.get("raw_path") else base_url + scope["path"]
        if query:
            url += "?" + query.decode("latin-1")
        out_headers = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k not in DROPPED_REQUEST
        }
        out_headers["x-request-id"] = request_id
        out_headers["x-forwarded-for"] = ip
        out_headers["x-real-ip"] = ip
        out_headers["x-forwarded-proto"] = scope.get("scheme", "http")
        has_body = (b"content-length" in headers and headers[b"content-length"] != b"0") or \
            b"transfer-encoding" in headers
        data = _request_body(receive) if has_body else None
        try:
            async with self.session.request(
                scope["method"], url, headers=out_headers, data=data, allow_redirects=False,
                compress=None, chunked=None,
            ) as resp:
                response_headers = [
                    (k.lower(), v) for k, v in resp.raw_headers
                    if k.lower() not in DROPPED_RESPONSE and k.lower() != b"x-request-id"
                ]
                response_headers.append((b"x-request-id", request_id.encode("latin-1")))
                await send({"type": "http.response.start", "status": resp.status, "headers": response_headers})
                if scope["method"] == "HEAD":
                    await send({"type": "http.response.body", "body": b""})
                    return
                async for chunk in resp.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
        except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError, ConnectionResetError) as exc:
            logger.warning("upstream %s unreachable: %r", service, exc)
            await _send_unavailable(send, service, request_id, scope["path"])
        except TimeoutError:
            logger.warning("upstream %s timed out", service)
            await _send_unavailable(send, service, request_id, scope["path"], timed_out=True)


async def _send_unavailable(send: Send, service: str, request_id: str, path: str, *, timed_out: bool = False) -> None:
    detail = (f"The {service} service did not answer in time." if timed_out
              else f"The {service} service is unreachable; try again shortly.")
    try:
        await send_problem(send, 503 if not timed_out else 504, "Service unavailable" if not timed_out
                           else "Gateway timeout", detail, "unavailable", request_id=request_id,
                           headers={"Retry-After": "5"}, instance=path)
    except RuntimeError:
        # the response had already started; the connection is cut, nothing more to say
        pass


async def _request_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body", False):
            return


def _cookies(headers: dict[bytes, bytes]) -> dict[str, str]:
    raw = headers.get(b"cookie")
    if not raw:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except CookieError:
        return {}
    return {key: morsel.value for key, morsel in jar.items()}
