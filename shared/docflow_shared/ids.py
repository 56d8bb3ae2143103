"""Opaque, time-ordered identifiers, the same recipe in every service.

An id is ``prefix`` + the creation time in microseconds since the epoch as 14 hex digits +
random hex digits up to ``length``. Newer ids sort after older ones, so a keyset page can sort
by ``_id``. Microseconds (not milliseconds) keep every id written before this module existed in
order: auth's old ids carried 12 hex digits of milliseconds and documents' were random, and a
14-digit microsecond stamp sorts after both.
"""

from __future__ import annotations

import re
import secrets
import time

TIME_DIGITS = 14
# documents' ids: 32 hex digits, no prefix (as long as the uuid4 hex ids stored before); every
# service that takes a document's or a file's id checks this shape
DOCUMENT_ID_LENGTH = 32


def new_id(prefix: str = "", *, length: int = 24) -> str:
    """``prefix`` + ``length`` hex digits: 14 of time, the rest random (at least 8)."""
    if length < TIME_DIGITS + 8:
        raise ValueError(f"an id needs at least {TIME_DIGITS + 8} hex digits")
    stamp = f"{time.time_ns() // 1000:0{TIME_DIGITS}x}"
    return prefix + stamp + secrets.token_hex(length)[: length - TIME_DIGITS]


def id_pattern(prefix: str = "", *, length: int = 24) -> str:
    """The shape of ``new_id(prefix, length=length)``, for the OpenAPI document and checks."""
    return f"^{prefix}[0-9a-f]{{{length}}}$"


DOCUMENT_ID_PATTERN = id_pattern(length=DOCUMENT_ID_LENGTH)


def well_formed(value: str, prefix: str = "", *, length: int = 24) -> bool:
    """Whether ``value`` can be ``new_id(prefix, length=length)``: a malformed id is simply not
    found (404), without a query."""
    return re.fullmatch(id_pattern(prefix, length=length), value or "") is not None
