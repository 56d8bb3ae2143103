"""Opaque, time-ordered identifiers: newer ids sort after older ones (keyset pagination)."""

from __future__ import annotations

import re
import secrets
import time

ID_PATTERN = re.compile(r"^[a-z]{3}_[0-9a-f]{24}$")


def new_id(prefix: str) -> str:
    """``<prefix>_`` + 14 hex digits of microseconds since the epoch + 10 random hex digits."""
    return f"{prefix}_{time.time_ns() // 1000:014x}{secrets.token_hex(5)}"


def well_formed(value: str, prefix: str) -> bool:
    """Whether ``value`` can be an id of this kind (malformed ids are answered with 404)."""
    return value.startswith(prefix + "_") and ID_PATTERN.match(value) is not None
