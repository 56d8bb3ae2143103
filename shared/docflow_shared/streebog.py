"""Streebog (GOST R 34.11-2012) digests from OpenSSL's GOST provider, through ``hashlib``.

Python's ``hashlib`` offers every digest its OpenSSL library has loaded. Debian's
``libengine-gost-openssl`` ships the provider ``gostprov``; once it is loaded into the process's
default library context, ``hashlib.new("md_gost12_512")`` hashes at OpenSSL speed (tens of MB/s,
where pure-Python Streebog manages a fraction of one). The provider is loaded here on first use
through OpenSSL's ``OSSL_PROVIDER_load``, so no ``OPENSSL_CONF`` is needed; a config that already
loads it works as well. Without the package GOST signatures are answered with a problem naming
it: never with a slow fallback (docs/architecture.md, "GOST signatures"). Signing verifies GOST
signatures with it; documents digests stored files with it when signing asks.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import threading
from typing import Literal

from docflow_shared.errors import Unavailable

logger = logging.getLogger(__name__)

PACKAGE = "libengine-gost-openssl"
NAMES = {256: "md_gost12_256", 512: "md_gost12_512"}
LIBCRYPTO = ("libcrypto.so.3", "libcrypto.3.dylib")

_lock = threading.Lock()
_loaded: bool | None = None


class GostUnavailable(Unavailable):
    """This installation cannot hash Streebog: the OpenSSL GOST provider is not installed."""

    slug = "gost-unavailable"

    def __init__(self) -> None:
        super().__init__(
            f"GOST signatures need OpenSSL's GOST provider: install the Debian package {PACKAGE} "
            f"(apt-get install {PACKAGE}) on the signing service's host.", retry_after=3600)


def _has_streebog() -> bool:
    try:
        hashlib.new(NAMES[512], b"")
    except ValueError:
        return False
    return True


def _load_provider() -> bool:
    """Load ``default`` and ``gostprov`` into the library ``hashlib`` uses; whether Streebog works then.

    ``default`` is loaded first because loading any provider explicitly stops OpenSSL from
    loading the default one on its own.
    """
    for name in LIBCRYPTO:
        try:
            library = ctypes.CDLL(name)
        except OSError:
            continue
        load = library.OSSL_PROVIDER_load
        load.restype = ctypes.c_void_p
        load.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        if load(None, b"default") and load(None, b"gostprov"):
            return _has_streebog()
    return False


def available() -> bool:
    """Whether Streebog digests can be computed; loads the provider on the first call."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _has_streebog() or _load_provider()
            if not _loaded:
                logger.warning("Streebog unavailable: GOST signatures are refused until %s is installed", PACKAGE)
        return _loaded


def new(bits: Literal[256, 512] = 512, data: bytes = b"") -> hashlib._Hash:
    """A Streebog hash object; 503 ``gost-unavailable`` when OpenSSL has no GOST provider."""
    if not available():
        raise GostUnavailable()
    return hashlib.new(NAMES[bits], data)


def digest(data: bytes, bits: Literal[256, 512] = 512) -> bytes:
    """Streebog of ``data`` (256 or 512 bits)."""
    return new(bits, data).digest()
