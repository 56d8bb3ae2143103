"""The gateway as a client sees it: token checks, forwarding, streaming, errors, limits."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from jose import jwt

from docflow_dev.testing.asserts import assert_problem
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.rawhttp import unfinished_chunked_post

from .conftest import EchoUpstream, start_gateway


@pytest_asyncio.fixture(loop_scope="session")
async def http(gateway: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}



class TestAuthentication:
    async def test_protected_path_without_token_is_401(self, http: httpx.AsyncClient) -> None:
        assert_problem(await http.get("/api/v1/documents"), 401)

    async def test_public_auth_path_needs_no_token(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/api/v1/auth/login", json={"email": "a@b.kz"})
        assert response.status_code == 200
        assert response.json()["path"] == "/api/v1/auth/login"

    async def test_valid_token_is_forwarded_with_request_id_and_client_ip(
        self, http: httpx.AsyncClient, local_issuer: LocalIssuer
    ) -> None:
        response = await http.get("/api/v1/documents?status=draft&limit=5",
                                  headers={**bearer(local_issuer.token("u1")), "X-Request-ID": "req-123"})
        assert response.status_code == 200
        seen = response.json()
        assert seen["path"] == "/api/v1/documents" and seen["query"] == "status=draft&limit=5"
        assert seen["headers"]["x-request-id"] == "req-123"
        assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
        assert seen["headers"]["authorization"].startswith("Bearer ")
        assert response.headers["x-request-id"] == "req-123"

    async def test_request_id_is_created_when_missing(self, http: httpx.AsyncClient, local_issuer: LocalIssuer) -> None:
        response = await http.get("/api/v1/documents", headers=bearer(local_issuer.token("u1")))
        assert len(response.json()["headers"]["x-request-id"]) >= 16

    async def test_admin_paths_need_the_admin_role(self, http: httpx.AsyncClient, local_issuer: LocalIssuer) -> None:
        assert_problem(await http.get("/api/v1/admin/users", headers=bearer(local_issuer.token("u1"))), 403)
        response = await http.get("/api/v1/admin/users", headers=bearer(local_issuer.token("a1", role="admin")))
        assert response.status_code == 200

    async def test_cookie_token_needs_csrf_for_unsafe_methods(
        self, http: httpx.AsyncClient, local_issuer: LocalIssuer
    ) -> None:
        cookies = {"docflow_access": local_issuer.token("u1"), "docflow_csrf": "c5rf"}
        cookie_header = "; ".join(f"{k}={v}" for k, v in cookies.items())
        assert (await http.get("/api/v1/documents", headers={"Cookie": cookie_header})).status_code == 200
        assert_problem(await http.post("/api/v1/documents", headers={"Cookie": cookie_header}, json={}), 403)
        ok = await http.post("/api/v1/documents", headers={"Cookie": cookie_header, "X-CSRF-Token": "c5rf"}, json={})
        assert ok.status_code == 200


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {"sub": "u1", "role": "admin", "type": "access", "iss": "docflow-auth",
                                 "aud": "docflow", "jti": "j1", "iat": now, "exp": now + 600}
    claims.update(overrides)
    return claims


class TestTokenAttacks:
    """Every forged or misused token answers 401, whatever it claims."""

    async def test_alg_none(self, http: httpx.AsyncClient, local_issuer: LocalIssuer) -> None:
        header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": local_issuer.kid}).encode())
        token = f"{header}.{_b64(json.dumps(_claims()).encode())}."
        assert_problem(await http.get("/api/v1/documents", headers=bearer(token)), 401)

    async def test_hs256_signed_with_the_public_jwk(self, http: httpx.AsyncClient, local_issuer: LocalIssuer) -> None:
        secret = json.dumps(local_issuer.public_jwk)
        token = jwt.encode(_claims(), secret, algorithm="HS256", headers={"kid": local_issuer.kid})
        assert_problem(await http.get("/api/v1/documents", headers=bearer(token)), 401)

    async def test_tampered_payload(self, http: httpx.AsyncClient, local_issuer: LocalIssuer) -> None:
        header, _, signature = local_issuer.token("u1").split(".")
        forged = _b64(json.dumps(_claims(sub="someone-else")).encode())
        assert_problem(await http.get("/api/v1/documents", headers=bearer(f"{header}.{forged}.{signature}")), 401)

    async def test_expired(self, http: httpx.AsyncClient, local_issuer: LocalIssuer) -> None:
        assert_problem(await http.get("/api/v1/documents", headers=bearer(local_issuer.token("u1", ttl=-5))), 401)

    async def test_wrong_audience_and_issuer(self, http: httpx.AsyncClient, local_issuer: LocalIssuer) -> None:
        for claim in ({"aud": "someone-else"}, {"iss": "evil"}):
            token = jwt.encode(_claims(**claim), local_issuer.private_pem, algorithm="ES256",
                               headers={"kid": local_issuer.kid})
            assert_problem(await http.get("/api/v1/documents", headers=bearer(token)), 401)

    async def test_correctly_signed_token_without_aud(self, http: httpx.AsyncClient, local_issuer: LocalIssuer) -> None:
        claims = _claims()
        del claims["aud"]
        token = jwt.encode(claims, local_issuer.private_pem, algorithm="ES256", headers={"kid": local_issuer.kid})
        assert_problem(await http.get("/api/v1/documents", headers=bearer(token)), 401)
        assert (await http.get("/api/v1/documents", headers=bearer(local_issuer.token("u1")))).status_code == 200

    async def test_refresh_token_used_as_access(self, http: httpx.AsyncClient, local_issuer: LocalIssuer) -> None:
        token = local_issuer.token("u1", token_type="refresh")
        assert_problem(await http.get("/api/v1/documents", headers=bearer(token)), 401)

    async def test_token_from_a_foreign_key(self, http: httpx.AsyncClient) -> None:
        foreign = LocalIssuer()
        assert_problem(await http.get("/api/v1/documents", headers=bearer(foreign.token("u1"))), 401)

    async def test_garbage(self, http: httpx.AsyncClient) -> None:
        for token in ("x", "a.b.c", "Bearer", "...."):
            assert_problem(await http.get("/api/v1/documents", headers=bearer(token)), 401)


class TestStreaming:
    async def test_large_upload_arrives_whole(self, http: httpx.AsyncClient, local_issuer: LocalIssuer) -> None:
        payload = os.urandom(24 * 1024 * 1024)

        async def body() -> AsyncIterator[bytes]:
            for start in range(0, len(payload), 1 << 20):
                yield payload[start:start + (1 << 20)]

        response = await http.post("/api/v1/documents/d1/files", content=body(),
                                   headers=bearer(local_issuer.token("u1")))
        assert response.status_code == 200
        assert response.json() == {"sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}

    async def test_large_download_streams_with_its_length(
        self, http: httpx.AsyncClient, local_issuer: LocalIssuer
    ) -> None:
        size = 32 * 1024 * 1024 + 7
        async with http.stream("GET", f"/api/v1/documents/blob?size={size}",
                               headers=bearer(local_issuer.token("u1"))) as response:
            assert response.status_code == 200
            assert int(response.headers["content-length"]) == size
            received = 0
            async for chunk in response.aiter_raw():
                received += len(chunk)
        assert received == size


class TestErrors:
    async def test_unknown_path_is_a_404_problem(self, http: httpx.AsyncClient, local_issuer: LocalIssuer) -> None:
        assert_problem(await http.get("/api/v1/nowhere", headers=bearer(local_issuer.token("u1"))), 404)
        assert_problem(await http.get("/nowhere"), 404)

    async def test_upstream_down_is_503_with_retry_after(
        self, platform_env: dict[str, str], local_issuer: LocalIssuer, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        dead = "http://127.0.0.1:9"
        stack = start_gateway(platform_env, tmp_path_factory.mktemp("gwdown"), AUTH_URL=dead, DOCUMENTS_URL=dead,
                              SIGNING_URL="", MAIL_URL="", JWKS_URL=local_issuer.jwks_url)
        try:
            async with httpx.AsyncClient(base_url=stack.url("gateway")) as client:
                response = await client.get("/api/v1/documents", headers=bearer(local_issuer.token("u1")))
                body = assert_problem(response, 503)
                assert response.headers["retry-after"] == "5"
                assert "documents" in str(body["detail"])
                ready = await client.get("/ready")
                assert ready.status_code == 503 and ready.json()["checks"]["documents"] == "down"
        finally:
            stack.stop()


class TestOps:
    async def test_health_and_ready(self, http: httpx.AsyncClient) -> None:
        assert (await http.get("/health")).json() == {"status": "ok"}
        ready = await http.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"]["broker"] == "up"

    async def test_openapi_merges_upstreams_and_docs_page(self, http: httpx.AsyncClient) -> None:
        spec = (await http.get("/openapi.json")).json()
        assert "/api/v1/documents" in spec["paths"] and "/health" in spec["paths"]
        assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
        docs = await http.get("/docs")
        assert docs.status_code == 200 and "swagger-ui" in docs.text.lower()


class TestRateLimits:
    async def test_login_is_limited_per_ip_with_retry_after(
        self, upstream: EchoUpstream, platform_env: dict[str, str], local_issuer: LocalIssuer,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> None:
        stack = start_gateway(platform_env, tmp_path_factory.mktemp("gwlimit"), AUTH_URL=upstream.url,
                              DOCUMENTS_URL=upstream.url, JWKS_URL=local_issuer.jwks_url,
                              GATEWAY_RATE_LIMIT_LOGIN_PER_MINUTE="3", GATEWAY_RATE_LIMIT_USER_PER_MINUTE="5")
        try:
            async with httpx.AsyncClient(base_url=stack.url("gateway")) as client:
                codes = [(await client.post("/api/v1/auth/login", json={})).status_code for _ in range(4)]
                assert codes == [200, 200, 200, 429]
                limited = await client.post("/api/v1/auth/login", json={})
                assert_problem(limited, 429)
                assert int(limited.headers["retry-after"]) >= 1
                token = bearer(local_issuer.token("busy-user"))
                codes = [(await client.get("/api/v1/documents", headers=token)).status_code for _ in range(6)]
                assert codes[:5] == [200] * 5 and codes[5] == 429
                other = await client.get("/api/v1/documents", headers=bearer(local_issuer.token("calm-user")))
                assert other.status_code == 200
        finally:
            stack.stop()


async def _raw_request(url: str, head: str) -> tuple[int, dict[str, str], bytes]:
    """One request written byte for byte (no client-side path normalisation), its status, headers, body."""
    parsed = httpx.URL(url)
    reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
    try:
        writer.write(head.encode("latin-1"))
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    header_block, _, body = raw.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


class TestLimitEscapes:
    """The tricks an attacker uses to get around the per-IP limits."""

    @pytest.fixture()
    def limited(self, upstream: EchoUpstream, platform_env: dict[str, str], local_issuer: LocalIssuer,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
        stack = start_gateway(platform_env, tmp_path_factory.mktemp("gwesc"), AUTH_URL=upstream.url,
                              DOCUMENTS_URL=upstream.url, JWKS_URL=local_issuer.jwks_url,
                              GATEWAY_RATE_LIMIT_LOGIN_PER_MINUTE="2")
        yield stack.url("gateway")
        stack.stop()

    async def test_dot_segments_do_not_escape_the_login_limit(self, limited: str) -> None:
        async with httpx.AsyncClient(base_url=limited) as client:
            assert [(await client.post("/api/v1/auth/login", json={})).status_code for _ in range(3)] == \
                [200, 200, 429]
        for path in ("/api/v1/auth/x/../login", "/api/v1/auth/./login", "/api/v1/auth/x/%2e%2e/login",
                     "/api/v1/auth/x/%2E%2E/login", "/api/v1/auth%2flogin", "/api/v1/auth/x/..%2Flogin"):
            status, headers, body = await _raw_request(
                limited, f"POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
                         "Content-Length: 2\r\nConnection: close\r\n\r\n{}")
            assert status in (400, 429), (path, status, body)
            assert headers["content-type"].startswith("application/problem+json"), path

    async def test_availability_is_limited_per_ip(
        self, upstream: EchoUpstream, platform_env: dict[str, str], local_issuer: LocalIssuer,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> None:
        stack = start_gateway(platform_env, tmp_path_factory.mktemp("gwavail"), AUTH_URL=upstream.url,
                              JWKS_URL=local_issuer.jwks_url, GATEWAY_RATE_LIMIT_AVAILABILITY_PER_MINUTE="3")
        try:
            async with httpx.AsyncClient(base_url=stack.url("gateway")) as client:
                codes = [(await client.get("/api/v1/auth/availability", params={"email": f"u{n}@corp.kz"})).status_code
                         for n in range(5)]
                assert codes == [200, 200, 200, 429, 429]
                assert_problem(await client.get("/api/v1/auth/availability", params={"iin": "900101300123"}), 429)
        finally:
            stack.stop()

    async def test_a_spoofed_forwarded_for_does_not_escape_the_limit(self, limited: str) -> None:
        async with httpx.AsyncClient(base_url=limited) as client:
            codes = [(await client.post("/api/v1/auth/login", json={},
                                        headers={"X-Forwarded-For": f"203.0.113.{n}"})).status_code
                     for n in range(4)]
            assert codes == [200, 200, 429, 429]
            seen = await client.get("/api/v1/documents", headers={"X-Forwarded-For": "203.0.113.9"})
            assert seen.status_code == 401


class TestBodyLimits:
    async def test_a_chunked_oversized_login_is_413_before_its_end(self, gateway: str) -> None:
        answer = await unfinished_chunked_post(gateway, "/api/v1/auth/login", {"Content-Type": "application/json"},
                                               size=1024 * 1024 + 1, first=b'{"email": "')
        assert answer.status == 413, answer
        assert answer.headers["content-type"].startswith("application/problem+json")

    async def test_a_declared_oversized_body_is_413_before_it_is_sent(self, gateway: str) -> None:
        status, headers, _ = await _raw_request(
            gateway, "POST /api/v1/auth/login HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {2 * 1024 * 1024}\r\nConnection: close\r\n\r\n")
        assert status == 413 and headers["content-type"].startswith("application/problem+json")


class TestReplicas:
    async def test_limits_hold_across_two_gateways_on_one_database(
        self, upstream: EchoUpstream, platform_env: dict[str, str], local_issuer: LocalIssuer,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> None:
        shared = {"MONGODB_DB_PREFIX": f"{platform_env['MONGODB_DB_PREFIX']}{uuid.uuid4().hex[:6]}_",
                  "AUTH_URL": upstream.url, "DOCUMENTS_URL": upstream.url, "JWKS_URL": local_issuer.jwks_url,
                  "GATEWAY_RATE_LIMIT_LOGIN_PER_MINUTE": "4", "GATEWAY_RATE_LIMIT_USER_PER_MINUTE": "6"}
        first = start_gateway(platform_env, tmp_path_factory.mktemp("gwa"), **shared)
        second = start_gateway(platform_env, tmp_path_factory.mktemp("gwb"), **shared)
        try:
            async with httpx.AsyncClient(base_url=first.url("gateway")) as a, \
                    httpx.AsyncClient(base_url=second.url("gateway")) as b:
                codes = [(await (a if n % 2 else b).post("/api/v1/auth/login", json={})).status_code
                         for n in range(6)]
                assert codes == [200, 200, 200, 200, 429, 429]
                token = bearer(local_issuer.token("replicated-user"))
                codes = [(await (a if n % 2 else b).get("/api/v1/documents", headers=token)).status_code
                         for n in range(8)]
                assert codes == [200] * 6 + [429, 429]
        finally:
            first.stop()
            second.stop()
