"""The route table: which upstream serves a path, and which paths need no token."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from docflow_gateway.settings import GatewaySettings

DOCUMENT = r"/api/v1/documents/[^/]+"

# Order matters: the first match wins. Routes, signing and audit own some paths below /documents/{id}.
DEFAULT_ROUTES: tuple[tuple[str, str], ...] = (
    (rf"^{DOCUMENT}/signature-requests(/|$)", "routes"),
    (r"^/api/v1/signature-requests(/|$)", "routes"),
    (r"^/api/v1/users/me/deputy$", "routes"),
    (r"^/api/v1/external/session/(certificates(/challenges)?|files/[^/]+/signatures)$", "signing"),
    (r"^/api/v1/external/session/files/[^/]+/content$", "documents"),
    (r"^/api/v1/external(/|$)", "routes"),
    (rf"^{DOCUMENT}/audit(/|$)", "audit"),
    (rf"^{DOCUMENT}/files/[^/]+/signatures(/|$)", "signing"),
    (rf"^{DOCUMENT}/signatures(/|$)", "signing"),
    (rf"^{DOCUMENT}/evidence/?$", "signing"),
    (r"^/api/v1/(certificates|signatures)(/|$)", "signing"),
    (r"^/api/v1/admin/mail(/|$)", "mail"),
    (r"^/api/v1/(events|webhooks)(/|$)", "notify"),
    (r"^/api/v1/(documents|inbox|contacts)(/|$)", "documents"),
    (r"^/api/v1/(auth|users|admin/users)(/|$)", "auth"),
    (r"^/\.well-known/jwks\.json$", "auth"),
)

# Reachable without an access token (they authenticate by other means or are public): links for
# people outside DocFlow carry their own token, then a session header (services/routes).
PUBLIC = re.compile(r"^(/api/v1/auth/.*|/api/v1/external/.*|/\.well-known/jwks\.json)$")
ADMIN = re.compile(r"^/api/v1/admin(/|$)")

# Sensitive public endpoints limited per client IP: (method, regex, limit name).
LIMITED: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"^/api/v1/auth/signup$"), "signup"),
    ("POST", re.compile(r"^/api/v1/auth/login$"), "login"),
    ("POST", re.compile(r"^/api/v1/auth/password/(forgot|reset)$"), "forgot"),
    ("POST", re.compile(r"^/api/v1/auth/email/(verify|resend)$"), "verify"),
    ("GET", re.compile(r"^/api/v1/auth/email/verify$"), "verify"),
    ("GET", re.compile(r"^/api/v1/auth/availability$"), "availability"),
    ("GET", re.compile(r"^/api/v1/external/[^/]+$"), "verify"),
    ("POST", re.compile(r"^/api/v1/external/[^/]+/code$"), "verify"),
)


# Paths served as WebSockets (docflow_gateway.websocket); every other WebSocket is refused.
SOCKETS = re.compile(r"^/api/v1/events$")

# Routes whose bodies are files and may exceed the JSON cap, up to the gateway's upload cap.
UPLOADS: tuple[tuple[str, str], ...] = (
    ("POST", rf"^{DOCUMENT}/files$"),
    ("POST", rf"^{DOCUMENT}/files/[^/]+/signatures$"),
    ("POST", r"^/api/v1/signatures/verify$"),
    ("POST", r"^/api/v1/external/session/files/[^/]+/signatures$"),
    ("POST", r"^/api/v1/signatures/verify-pdf$"),
)


@dataclass(eq=False, slots=True)
class Upstream:
    """A service and the base URLs of its replicas (``<SVC>_URL``, comma-separated), taken in
    turn: each request starts at the next replica (docs/architecture.md, "Replicas")."""

    name: str
    base_urls: tuple[str, ...]
    _turn: int = field(default=0, repr=False)

    @property
    def base_url(self) -> str:
        return self.base_urls[0]

    def rotation(self) -> list[str]:
        """Every replica, starting at the one whose turn it is."""
        start = self._turn % len(self.base_urls)
        self._turn += 1
        return [*self.base_urls[start:], *self.base_urls[:start]]


def replica_urls(value: str) -> tuple[str, ...]:
    """The base URLs in a ``<SVC>_URL`` value: one, or several separated by commas."""
    return tuple(url.strip().rstrip("/") for url in value.split(",") if url.strip())


class RouteTable:
    def __init__(self, routes: list[tuple[re.Pattern[str], Upstream]]) -> None:
        self.routes = routes

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> RouteTable:
        urls = {
            "auth": settings.auth_url, "documents": settings.documents_url,
            "signing": settings.signing_url, "mail": settings.mail_url, "routes": settings.routes_url,
            "audit": settings.audit_url,
            "notify": settings.notify_url,
        }
        routes: list[tuple[re.Pattern[str], Upstream]] = []
        upstreams: dict[str, Upstream] = {}  # one per service, so its replicas take turns across routes
        for pattern, service in (*settings.routes, *DEFAULT_ROUTES):
            url = urls.get(service) or (service if service.startswith("http") else "")
            if replicas := replica_urls(url):
                upstream = upstreams.setdefault(service, Upstream(service, replicas))
                routes.append((re.compile(pattern), upstream))
        return cls(routes)

    def match(self, path: str) -> Upstream | None:
        for pattern, upstream in self.routes:
            if pattern.match(path):
                return upstream
        return None

    def upstreams(self) -> dict[str, Upstream]:
        return {u.name: u for _, u in self.routes}


def limit_name(method: str, path: str) -> str | None:
    for limited_method, pattern, name in LIMITED:
        if method == limited_method and pattern.match(path):
            return name
    return None
