"""A stand-alone token issuer for tests: its own EC key, a JWKS served over HTTP, tokens on demand.

Lets a service be tested on its own (without auth) and lets tests forge tokens with a key
the platform does not trust.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk, jwt

from docflow_dev.devstack import free_port


class LocalIssuer:
    def __init__(self, *, issuer: str = "docflow-auth", audience: str = "docflow") -> None:
        self.issuer = issuer
        self.audience = audience
        self.kid = uuid.uuid4().hex[:12]
        key = ec.generate_private_key(ec.SECP256R1())
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        public = jwk.construct(public_pem, "ES256").to_dict()
        self.public_jwk = {**{k: (v.decode() if isinstance(v, bytes) else v) for k, v in public.items()},
                           "kid": self.kid, "use": "sig", "alg": "ES256"}
        self.port = free_port()
        self._server: ThreadingHTTPServer | None = None

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    def token(self, sub: str, *, role: str = "user", email_verified: bool = True,
              token_type: str = "access", ttl: int = 900, **extra: Any) -> str:
        now = int(time.time())
        claims = {"sub": sub, "role": role, "type": token_type, "email_verified": email_verified,
                  "iss": self.issuer, "aud": self.audience, "jti": uuid.uuid4().hex,
                  "iat": now, "exp": now + ttl, **extra}
        return str(jwt.encode(claims, self.private_pem, algorithm="ES256", headers={"kid": self.kid}))

    def start(self) -> LocalIssuer:
        body = json.dumps({"keys": [self.public_jwk]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
