"""The signature a delivery carries: HMAC-SHA256 over ``<timestamp>.<body>``.

``DocFlow-Timestamp`` holds the Unix time of the attempt; ``DocFlow-Signature`` holds
``v1=<hex>``, once per secret in force (two during a rotation's overlap), comma-separated. A
receiver recomputes the HMAC with its secret and accepts when one matches and the timestamp is
recent (README, "Verifying a delivery")."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

SIGNATURE_HEADER = "DocFlow-Signature"
TIMESTAMP_HEADER = "DocFlow-Timestamp"
VERSION = "v1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    return ",".join(f"{VERSION}={sign(secret, timestamp, body)}" for secret in secrets)
