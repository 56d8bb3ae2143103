"""The route table: which upstream serves a path, and which paths need no token."""

from __future__ import annotations

import re
from dataclasses import dataclass

from docflow_gateway.settings import GatewaySettings

DOCUMENT = r"/api/v1/documents/[^/]+"

# Order matters: the first match wins. Signing owns some paths below /documents/{id}.
DEFAULT_ROUTES: tuple[tuple[str, str], ...] = (
    (rf"^{DOCUMENT}/files/[^/]+/signatures(/|$)", "signing"),
    (rf"^{DOCUMENT}/(signatures|signature-requests)(/|$)", "signing"),
    (r"^/api/v1/(certificates|signatures|signature-requests)(/|$)", "signing"),
    (r"^/api/v1/admin/mail(/|$)", "mail"),
    (r"^/api/v1/(documents|inbox|contacts)(/|$)", "documents"),
    (r"^/api/v1/(auth|users|admin/users)(/|$)", "auth"),
    (r"^/\.well-known/jwks\.json$", "auth"),
)

# Reachable without an access token (they authenticate by other means or are public).
PUBLIC = re.compile(r"^(/api/v1/auth/.*|/\.well-known/jwks\.json)$")
ADMIN = re.compile(r"^/api/v1/admin(/|$)")

# Sensitive public endpoints limited per client IP: (method, regex, limit name).
LIMITED: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"^/api/v1/auth/signup$"), "signup"),
    ("POST", re.compile(r"^/api/v1/auth/login$"), "login"),
    ("POST", re.compile(r"^/api/v1/auth/password/(forgot|reset)$"), "forgot"),
    ("POST", re.compile(r"^/api/v1/auth/email/(verify|resend)$"), "verify"),
    ("GET", re.compile(r"^/api/v1/auth/email/verify$"), "verify"),
)


@dataclass(frozen=True, slots=True)
class Upstream:
    name: str
    base_url: str


class RouteTable:
    def __init__(self, routes: list[tuple[re.Pattern[str], Upstream]]) -> None:
        self.routes = routes

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> RouteTable:
        urls = {
            "auth": settings.auth_url, "documents": settings.documents_url,
            "signing": settings.signing_url, "mail": settings.mail_url,
        }
        routes: list[tuple[re.Pattern[str], Upstream]] = []
        for pattern, service in (*settings.routes, *DEFAULT_ROUTES):
            url = urls.get(service) or (service if service.startswith("http") else "")
            if url:
                routes.append((re.compile(pattern), Upstream(service, url.rstrip("/"))))
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
