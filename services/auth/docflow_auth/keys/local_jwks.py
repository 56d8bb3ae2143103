"""Auth verifies its own access tokens straight from its key ring (no HTTP round trip)."""

from __future__ import annotations

from typing import Any

from docflow_auth.keys.keyring import KeyRing
from docflow_shared.tokens import JWKSCache


class KeyRingJWKS(JWKSCache):
    """A JWKS cache whose keys are the key ring's published keys, reloaded with it."""

    def __init__(self, keyring: KeyRing) -> None:
        super().__init__("keyring:local")
        self.keyring = keyring

    async def get(self, kid: str) -> dict[str, Any] | None:
        for key in self.keyring.jwks()["keys"]:
            if key["kid"] == kid:
                return dict(key)
        return None
