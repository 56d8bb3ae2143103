"""The route table and the rate limiter, on their own."""

from __future__ import annotations

from docflow_gateway.ratelimit import RateLimiter
from docflow_gateway.routing import ADMIN, PUBLIC, RouteTable, limit_name
from docflow_gateway.settings import GatewaySettings


def table() -> RouteTable:
    return RouteTable.from_settings(GatewaySettings(
        auth_url="http://a", documents_url="http://d", signing_url="http://s", mail_url="http://m",
        routes_url="http://r",
    ))


class TestMatch:
    def test_each_path_goes_to_its_owner(self) -> None:
        routes = table()
        expected = {
            "/api/v1/auth/login": "auth",
            "/api/v1/users/me": "auth",
            "/api/v1/admin/users/abc/unlock": "auth",
            "/.well-known/jwks.json": "auth",
            "/api/v1/documents": "documents",
            "/api/v1/documents/d1/files/f1/content": "documents",
            "/api/v1/documents/d1/files/f1/signatures": "signing",
            "/api/v1/documents/d1/signatures": "signing",
            "/api/v1/documents/d1/signature-requests/r1": "routes",
            "/api/v1/documents/d1/signature-requests": "routes",
            "/api/v1/documents/d1/evidence": "signing",
            "/api/v1/documents/d1/evidencex": "documents",
            "/api/v1/inbox": "documents",
            "/api/v1/contacts/c1": "documents",
            "/api/v1/certificates": "signing",
            "/api/v1/certificates/challenges": "signing",
            "/api/v1/signatures/verify": "signing",
            "/api/v1/signature-requests": "routes",
            "/api/v1/users/me/deputy": "routes",
            "/api/v1/users/me/deputyx": "auth",
            "/api/v1/external/tok123": "routes",
            "/api/v1/external/session/approve": "routes",
            "/api/v1/external/session/certificates": "signing",
            "/api/v1/external/session/certificates/challenges": "signing",
            "/api/v1/external/session/files/f1/signatures": "signing",
            "/api/v1/external/session/files/f1/content": "documents",
            "/api/v1/admin/mail/deliveries": "mail",
        }
        for path, service in expected.items():
            upstream = routes.match(path)
            assert upstream is not None and upstream.name == service, path

    def test_a_documents_trail_goes_to_audit_before_the_documents_prefix(self) -> None:
        routes = RouteTable.from_settings(GatewaySettings(documents_url="http://d", audit_url="http://au"))
        for path in ("/api/v1/documents/d1/audit", "/api/v1/documents/d1/audit/export"):
            upstream = routes.match(path)
            assert upstream is not None and upstream.name == "audit", path
        for path in ("/api/v1/documents/d1", "/api/v1/documents/d1/auditx", "/api/v1/documents/audit"):
            upstream = routes.match(path)
            assert upstream is not None and upstream.name == "documents", path

    def test_unknown_and_lookalike_paths_have_no_route(self) -> None:
        routes = table()
        for path in ("/api/v1/nothing", "/api/v1/documentsx", "/api/v2/documents", "/api/v1/authx/login"):
            assert routes.match(path) is None, path

    def test_services_without_url_are_not_routed(self) -> None:
        routes = RouteTable.from_settings(GatewaySettings(auth_url="http://a", documents_url="", signing_url="",
                                                          mail_url=""))
        assert routes.match("/api/v1/documents") is None
        assert routes.match("/api/v1/auth/login") is not None


class TestRules:
    def test_only_auth_flows_outsider_links_and_jwks_are_public(self) -> None:
        assert PUBLIC.match("/api/v1/auth/signup")
        assert PUBLIC.match("/.well-known/jwks.json")
        assert not PUBLIC.match("/api/v1/users/me")
        assert PUBLIC.match("/api/v1/external/tok123/code")
        assert not PUBLIC.match("/api/v1/externalx")
        assert not PUBLIC.match("/api/v1/documents")

    def test_admin_prefix(self) -> None:
        assert ADMIN.match("/api/v1/admin/users")
        assert ADMIN.match("/api/v1/admin/mail/deliveries")
        assert not ADMIN.match("/api/v1/administrators")

    def test_limited_endpoints(self) -> None:
        assert limit_name("POST", "/api/v1/auth/login") == "login"
        assert limit_name("POST", "/api/v1/auth/signup") == "signup"
        assert limit_name("POST", "/api/v1/auth/password/forgot") == "forgot"
        assert limit_name("GET", "/api/v1/auth/email/verify") == "verify"
        assert limit_name("GET", "/api/v1/auth/login") is None


class TestRateLimiter:
    def test_allows_the_budget_then_asks_to_wait(self) -> None:
        limiter = RateLimiter(3)
        assert [limiter.hit("ip") for _ in range(3)] == [0, 0, 0]
        assert limiter.hit("ip") >= 1
        assert limiter.hit("other") == 0
