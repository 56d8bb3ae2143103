"""ES256 signing keys, the JWKS, and key rotation without downtime.

Where the keys come from:

* ``AUTH_SIGNING_KEYS``: one or more PEM private keys (P-256), concatenated. The first signs;
  every key listed is published in the JWKS, so tokens signed by the others keep verifying.
* otherwise ``$DATA_DIR/auth-keys/``: ``<kid>.pem`` files and ``keyring.json`` naming the
  current key. A key is generated there on first start.

Rotation (data-dir keys): ``docflow-auth rotate-key [--activate-in 60]`` generates a key and
publishes it in the JWKS at once; it starts signing ``--activate-in`` seconds later, so every
verifier (the gateway, the services) can fetch it before the first token it signs arrives.
From then on the previous key only verifies: it stays in the JWKS for the access-token
lifetime plus the JWKS cache age (``AUTH_ACCESS_TOKEN_TTL`` + 300 s), so every token it signed
keeps verifying until it expires. Running processes pick the change up within a second (they
watch ``keyring.json``); verifiers also refetch the JWKS when they meet an unknown ``kid``.
With ``AUTH_SIGNING_KEYS``: add the new PEM after the current one (published, not signing),
roll that out, then move it first; drop the old PEM once the access-token lifetime has passed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from docflow_auth.security.files import exclusive_lock, write_private
from docflow_auth.security.secrets import b64url

logger = logging.getLogger(__name__)

MANIFEST = "keyring.json"
JWKS_CACHE_SECONDS = 300
PEM_END = "-----END PRIVATE KEY-----"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("signing keys must be P-256 EC private keys (ES256)")
        return cls(kid=thumbprint(key.public_key()), private_key=key)

    @classmethod
    def generate(cls) -> SigningKey:
        key = ec.generate_private_key(ec.SECP256R1())
        return cls(kid=thumbprint(key.public_key()), private_key=key)

    def pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_jwk(self) -> dict[str, str]:
        return {**_public_members(self.private_key.public_key()), "kid": self.kid, "use": "sig", "alg": "ES256"}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "ES256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{_b64json(header)}.{_b64json(claims)}".encode()
        der = self.private_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input.decode()}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _b64json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def _public_members(public: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public.public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big"))}


def thumbprint(public: ec.EllipticCurvePublicKey) -> str:
    """RFC 7638 JWK thumbprint (first 22 characters) as the ``kid``."""
    members = _public_members(public)
    canonical = json.dumps({k: members[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode()[:22]


class KeyRing:
    """The signing key of the moment plus the keys still published for verification."""

    def __init__(self, *, env_pems: str, keys_dir: Path, access_ttl: int) -> None:
        self.env_pems = env_pems
        self.keys_dir = keys_dir
        self.access_ttl = access_ttl
        self._schedule: list[tuple[float, SigningKey]] = []
        self._published: list[SigningKey] = []
        self._manifest_seen: tuple[int, int, int] | None = None
        self._checked_at = 0.0
        self.load()

    @property
    def current(self) -> SigningKey:
        """The most recently activated key (a rotated-in key signs once its time has come)."""
        self.reload_if_changed()
        now = time.time()
        active = [key for activates_at, key in self._schedule if activates_at <= now]
        return active[-1] if active else self._schedule[0][1]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        self.reload_if_changed()
        return {"keys": [k.public_jwk() for k in self._published]}

    def sign(self, claims: dict[str, Any]) -> str:
        return self.current.sign(claims)

    def load(self) -> None:
        if self.env_pems.strip():
            keys = [SigningKey.from_pem(p.encode()) for p in split_pems(self.env_pems)]
            self._schedule, self._published = [(0.0, keys[0])], keys
            return
        with exclusive_lock(self.keys_dir):
            manifest = _read_manifest(self.keys_dir)
            if manifest is None:
                manifest = _add_key(self.keys_dir, {"keys": {}}, SigningKey.generate(), activate_in=0)
            self._manifest_seen = _signature(self.keys_dir / MANIFEST)
        self._apply(manifest)

    def _apply(self, manifest: dict[str, Any]) -> None:
        now = time.time()
        keep_for = self.access_ttl + JWKS_CACHE_SECONDS
        schedule: list[tuple[float, SigningKey]] = []
        for kid, meta in manifest["keys"].items():
            retired_at = meta.get("retired_at")
            if retired_at is not None and retired_at + keep_for <= now:
                continue
            path = self.keys_dir / f"{kid}.pem"
            if path.exists():
                activates_at = float(meta.get("activates_at", meta["created_at"]))
                schedule.append((activates_at, SigningKey.from_pem(path.read_bytes())))
        if not schedule:
            raise KeyError(f"no usable signing key in {MANIFEST}")
        schedule.sort(key=lambda item: item[0])
        self._schedule = schedule
        self._published = [key for _, key in reversed(schedule)]

    def reload_if_changed(self) -> None:
        if self.env_pems.strip():
            return
        now = time.monotonic()
        if now - self._checked_at < 1.0:
            return
        self._checked_at = now
        try:
            seen = _signature(self.keys_dir / MANIFEST)
        except OSError:
            return
        if seen != self._manifest_seen:
            try:
                manifest = _read_manifest(self.keys_dir)
                if manifest is not None:
                    self._apply(manifest)
            except (OSError, ValueError, KeyError) as exc:
                logger.warning("signing keys not reloaded, keeping the current ones: %r", exc)
            self._manifest_seen = seen


def _signature(path: Path) -> tuple[int, int, int]:
    """Changes whenever the manifest is replaced (new inode) or rewritten."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def split_pems(text: str) -> list[str]:
    parts = [p.strip() + "\n" + PEM_END for p in text.replace("\\n", "\n").split(PEM_END) if p.strip()]
    return [p + "\n" for p in parts]


def _read_manifest(keys_dir: Path) -> dict[str, Any] | None:
    path = keys_dir / MANIFEST
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _add_key(keys_dir: Path, manifest: dict[str, Any], key: SigningKey, *, activate_in: float) -> dict[str, Any]:
    """Publish ``key`` now; it signs from ``activate_in`` seconds on, when the newest key before it retires."""
    write_private(keys_dir / f"{key.kid}.pem", key.pem())
    now = time.time()
    activates_at = now + max(0.0, activate_in)
    for meta in manifest["keys"].values():
        if meta.get("retired_at") is None:
            meta["retired_at"] = activates_at
    manifest["keys"][key.kid] = {"created_at": now, "activates_at": activates_at, "retired_at": None}
    manifest["current"] = key.kid
    write_private(keys_dir / MANIFEST, json.dumps(manifest, indent=2).encode())
    return manifest


def rotate(keys_dir: Path, *, activate_in: float = 0) -> str:
    """Add a new key to ``keys_dir``: published at once, signing after ``activate_in`` seconds."""
    with exclusive_lock(keys_dir):
        manifest = _read_manifest(keys_dir) or {"keys": {}}
        key = SigningKey.generate()
        _add_key(keys_dir, manifest, key, activate_in=activate_in)
    return key.kid
