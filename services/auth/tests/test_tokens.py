"""Token attacks on auth's own protected routes, the JWKS, and key rotation while running."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_testkit import API, AuthApi, bearer, claims_of, header_of, run_cli
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from docflow_auth.keys.keyring import SigningKey
from docflow_dev.testing.asserts import assert_problem
from docflow_dev.testing.issuer import LocalIssuer


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def current_key(auth_env: dict[str, str]) -> SigningKey:
    keys_dir = Path(auth_env["DATA_DIR"]) / "auth-keys"
    kid = json.loads((keys_dir / "keyring.json").read_text())["current"]
    return SigningKey.from_pem((keys_dir / f"{kid}.pem").read_bytes())


def good_claims(sub: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": sub, "role": "user", "type": "access", "email_verified": True, "iss": "docflow-auth",
            "aud": "docflow", "jti": uuid.uuid4().hex, "iat": now, "exp": now + 600, **changes}


class TestJwtAttacks:
    async def test_a_real_token_signed_with_the_real_key_works(self, api: AuthApi, http: httpx.AsyncClient,
                                                              auth_env: dict[str, str]) -> None:
        account = await api.account()
        forged_ok = current_key(auth_env).sign(good_claims(account.id))
        assert (await http.get(f"{API}/users/me", headers=bearer(forged_ok))).status_code == 200

    @pytest.mark.parametrize("attack", [
        "alg_none", "hs256_with_public_jwk", "hs256_with_public_pem", "tampered_payload", "expired",
        "wrong_audience", "wrong_issuer", "refresh_type", "refresh_token_as_access", "foreign_key",
        "unknown_kid", "no_kid", "garbage", "missing_sub",
    ])
    async def test_attacks_are_401(self, attack: str, api: AuthApi, http: httpx.AsyncClient,
                                   auth_env: dict[str, str], local_issuer: LocalIssuer) -> None:
        account = await api.account()
        key = current_key(auth_env)
        jwk = key.public_jwk()
        claims = claims_of(account.access_token)
        token: str
        if attack == "alg_none":
            token = unsigned({"alg": "none", "typ": "JWT", "kid": jwk["kid"]}, {**claims, "role": "admin"}) + "."
        elif attack.startswith("hs256"):
            pem = key.private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
            secret = json.dumps(jwk).encode() if attack.endswith("jwk") else pem
            body = unsigned({"alg": "HS256", "typ": "JWT", "kid": jwk["kid"]}, {**claims, "role": "admin"})
            token = f"{body}.{b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())}"
        elif attack == "tampered_payload":
            head, _, signature = account.access_token.split(".")
            token = f"{head}.{b64(json.dumps({**claims, 'role': 'admin'}).encode())}.{signature}"
        elif attack == "expired":
            token = key.sign(good_claims(account.id, iat=int(time.time()) - 2000, exp=int(time.time()) - 1000))
        elif attack == "wrong_audience":
            token = key.sign(good_claims(account.id, aud="someone-else"))
        elif attack == "wrong_issuer":
            token = key.sign(good_claims(account.id, iss="https://evil.example"))
        elif attack == "refresh_type":
            token = key.sign(good_claims(account.id, type="refresh"))
        elif attack == "refresh_token_as_access":
            token = account.refresh_token
        elif attack == "foreign_key":
            token = local_issuer.token(account.id, role="admin")
        elif attack == "unknown_kid":
            token = SigningKey.generate().sign(good_claims(account.id))
        elif attack == "no_kid":
            signed = key.sign(good_claims(account.id))
            token = unsigned({"alg": "ES256", "typ": "JWT"}, claims_of(signed)) + "." + signed.split(".")[2]
        elif attack == "missing_sub":
            token = key.sign({k: v for k, v in good_claims(account.id).items() if k != "sub"})
        else:
            token = "a.b.c"
        for path in ("/users/me", "/users/me/sessions"):
            response = await http.get(f"{API}{path}", headers=bearer(token))
            assert_problem(response, 401)
        assert_problem(await http.get(f"{API}/admin/users", headers=bearer(token)), 401)


class TestJwks:
    async def test_jwks_publishes_the_signing_key(self, api: AuthApi, http: httpx.AsyncClient) -> None:
        account = await api.account(verified=False)
        response = await http.get("/.well-known/jwks.json")
        assert response.status_code == 200 and "max-age" in response.headers["cache-control"]
        keys = response.json()["keys"]
        kid = header_of(account.access_token)["kid"]
        published = next(k for k in keys if k["kid"] == kid)
        assert published["kty"] == "EC" and published["crv"] == "P-256" and published["alg"] == "ES256"
        assert "d" not in published


class TestKeyRotation:
    async def test_rotation_while_running_publishes_first_then_signs_and_old_tokens_stay_valid(
        self, api: AuthApi, http: httpx.AsyncClient, auth_env: dict[str, str]
    ) -> None:
        before = await api.account()
        old_token, old_kid = before.access_token, header_of(before.access_token)["kid"]
        code, out = await run_cli(auth_env, "rotate-key", "--activate-in", "3")
        assert code == 0, out
        new_kid = out.strip().rsplit(" ", 1)[-1]
        assert new_kid != old_kid
        await asyncio.sleep(1.2)
        kids = {k["kid"] for k in (await http.get("/.well-known/jwks.json")).json()["keys"]}
        assert {old_kid, new_kid} <= kids, "the new key is published before it signs"
        still_old = await api.log_in(before)
        assert header_of(still_old.access_token)["kid"] == old_kid
        await asyncio.sleep(2.5)
        after = await api.log_in(before)
        assert header_of(after.access_token)["kid"] == new_kid
        for token in (old_token, after.access_token):
            response = await http.get(f"{API}/users/me", headers=bearer(token))
            assert response.status_code == 200, response.text
