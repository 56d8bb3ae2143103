"""Streebog for signing's GOST code: the one implementation is ``docflow_shared.streebog``, which
documents uses too for the digests of stored files."""

from __future__ import annotations

from docflow_shared.streebog import PACKAGE, GostUnavailable, available, digest, new

__all__ = ["PACKAGE", "GostUnavailable", "available", "digest", "new"]
