"""Signing keys: generation in the data dir, rotation, retirement, keys from env."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from docflow_auth.keys.keyring import MANIFEST, KeyRing, SigningKey, rotate
from docflow_auth.keys.local_jwks import KeyRingJWKS
from docflow_shared.errors import Unauthorized
from docflow_shared.tokens import AccessTokenVerifier


def claims(sub: str = "u1") -> dict[str, object]:
    now = int(time.time())
    return {"sub": sub, "role": "user", "type": "access", "iss": "docflow-auth", "aud": "docflow",
            "jti": "j", "iat": now, "exp": now + 60}


def verifier(ring: KeyRing) -> AccessTokenVerifier:
    return AccessTokenVerifier(KeyRingJWKS(ring), issuer="docflow-auth", audience="docflow")


class TestDataDirKeys:
    async def test_generated_once_and_shared(self, tmp_path: Path) -> None:
        first = KeyRing(env_pems="", keys_dir=tmp_path, access_ttl=900)
        second = KeyRing(env_pems="", keys_dir=tmp_path, access_ttl=900)
        assert first.current.kid == second.current.kid
        assert (tmp_path / f"{first.current.kid}.pem").stat().st_mode & 0o077 == 0
        assert (await verifier(second).verify(first.sign(claims()))).user_id == "u1"

    async def test_rotation_new_key_signs_old_key_still_verifies(self, tmp_path: Path) -> None:
        ring = KeyRing(env_pems="", keys_dir=tmp_path, access_ttl=900)
        old_token, old_kid = ring.sign(claims("old")), ring.current.kid
        new_kid = rotate(tmp_path)
        ring._checked_at = 0.0
        assert ring.current.kid == new_kid
        assert {k["kid"] for k in ring.jwks()["keys"]} == {old_kid, new_kid}
        check = verifier(ring)
        assert (await check.verify(old_token)).user_id == "old"
        assert (await check.verify(ring.sign(claims("new")))).user_id == "new"

    async def test_a_key_rotated_in_later_is_published_before_it_signs(self, tmp_path: Path) -> None:
        ring = KeyRing(env_pems="", keys_dir=tmp_path, access_ttl=900)
        old_kid = ring.current.kid
        new_kid = rotate(tmp_path, activate_in=60)
        ring._checked_at = 0.0
        assert ring.current.kid == old_kid
        assert [k["kid"] for k in ring.jwks()["keys"]] == [new_kid, old_kid]
        manifest = json.loads((tmp_path / MANIFEST).read_text())
        manifest["keys"][new_kid]["activates_at"] = time.time()
        (tmp_path / MANIFEST).write_text(json.dumps(manifest))
        assert KeyRing(env_pems="", keys_dir=tmp_path, access_ttl=900).current.kid == new_kid

    async def test_retired_key_leaves_the_jwks_after_its_tokens_expire(self, tmp_path: Path) -> None:
        ring = KeyRing(env_pems="", keys_dir=tmp_path, access_ttl=900)
        old_token, old_kid = ring.sign(claims()), ring.current.kid
        rotate(tmp_path)
        manifest = json.loads((tmp_path / MANIFEST).read_text())
        manifest["keys"][old_kid]["retired_at"] = time.time() - 900 - 301
        (tmp_path / MANIFEST).write_text(json.dumps(manifest))
        fresh = KeyRing(env_pems="", keys_dir=tmp_path, access_ttl=900)
        assert old_kid not in {k["kid"] for k in fresh.jwks()["keys"]}
        with pytest.raises(Unauthorized):
            await verifier(fresh).verify(old_token)


class TestEnvKeys:
    async def test_first_pem_signs_all_are_published(self, tmp_path: Path) -> None:
        new, old = SigningKey.generate(), SigningKey.generate()
        pems = new.pem().decode() + old.pem().decode()
        ring = KeyRing(env_pems=pems, keys_dir=tmp_path / "unused", access_ttl=900)
        assert ring.current.kid == new.kid
        assert [k["kid"] for k in ring.jwks()["keys"]] == [new.kid, old.kid]
        assert (await verifier(ring).verify(old.sign(claims("legacy")))).user_id == "legacy"
        escaped = KeyRing(env_pems=new.pem().decode().replace("\n", "\\n"), keys_dir=tmp_path, access_ttl=900)
        assert escaped.current.kid == new.kid

    def test_non_p256_keys_are_refused(self) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        pem = ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        with pytest.raises(ValueError):
            SigningKey.from_pem(pem)
